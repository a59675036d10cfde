"""API throughput and latency under concurrent load, per service, next to a bare Flask endpoint served by the
same gunicorn configuration (deploy/local/run.py's gunicorn_argv: same workers) in the same run.

The ratio is what a request through the platform costs over Flask alone: the bearer token, the rate limiter (a
counter in the document store, kept in the path with a limit no benchmark reaches), validation, the store, and
for writes the transaction with its outbox event and audit entry.

Each endpoint gets `clients` threads (16 small, 32 full) with a connection each, sending back to back after a
short warm-up; gunicorn's sync workers close the connection after each response, so every request opens one,
the bare ones too. Writes are measured before the reads of their service (the lists then have something to
page), and after each write endpoint the relays and the projector catch up, so its backlog does not slow the next.
The rate limit is raised for the run (bench/live_platform.py), the limiter still counts every request. Each
client is a person of its own (its own token, so its own limiter counter), as in an office where many people
use the portal at once.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask, request

from bench.freshness import percentiles_ms
from bench.harness import Bench, Figure
from bench.live_platform import bearer, seeded_platform, wait_quiet
from deploy.local.demo_activity import demo_schools
from deploy.local.launch import Platform
from deploy.local.run import HOST, REPO_ROOT, gunicorn_argv, http_ready
from deploy.local.servers import ServerProcess, free_port, spawn, wait_until
from shared.settings import Settings


@dataclass(frozen=True)
class Shape:
    clients: int
    seconds: float  # measured, per endpoint
    warmup: float


SHAPES = {"small": Shape(clients=16, seconds=5, warmup=0.5), "full": Shape(clients=32, seconds=15, warmup=2)}


def bare_app() -> Flask:
    """The baseline: Flask alone under the same gunicorn; no token, limiter, validation, store or audit."""
    app = Flask("bare")

    @app.get("/bare")
    def read() -> Any:
        return {"items": [], "page": 1, "total": 0}

    @app.post("/bare")
    def write() -> Any:
        return {"id": uuid.uuid4().hex, "fields": len(request.get_json() or {})}, 201

    return app


@dataclass(frozen=True)
class Caller:
    sub: str
    role: str
    scope_level: str
    scope_code: str | None

    def headers(self, settings: Settings, client: int) -> dict[str, str]:
        return bearer(settings, f"{self.sub}-{client}", self.role, self.scope_level, self.scope_code)


@dataclass
class Endpoint:
    key: str
    title: str
    service: str  # "bare" for the baseline
    method: str
    path: str
    caller: Caller | None = None  # whose token each client sends (one person per client); None: no token
    body: Callable[[int], bytes] | None = None  # the n-th request's body
    content_type: str = "application/json"


@dataclass
class Result:
    endpoint: Endpoint
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    first_error: str = ""  # the first refusal's status and message, to tell a bug from a limit

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


def run(ctx: Bench) -> list[Figure]:
    shape = SHAPES.get(ctx.scale.name, SHAPES["small"])
    seeds = ("the demo committees",)  # the board the meetings go to; results come from the import endpoint
    name = "api-load"
    with (
        seeded_platform(ctx, name, seeds) as platform,
        _Bare(platform, Path(ctx.work_dir) / name / "bare.log") as bare_port,
    ):
        ports = {**platform.settings.ports, "bare": bare_port}
        endpoints = _endpoints(platform)
        results: dict[str, Result] = {}
        with ctx.progress(f"api load: endpoints, {shape.clients} clients each", len(endpoints)) as advance:
            for endpoint in endpoints:
                results[endpoint.key] = _hammer(endpoint, ports[endpoint.service], shape, platform.settings)
                if endpoint.service != "bare" and endpoint.method == "POST":
                    wait_quiet(platform)
                advance()
    return _figures(results, shape)


# ------------------------------------------------------------------------------------------------ endpoints


def _endpoints(platform: Platform) -> list[Endpoint]:
    supervisor = Caller("sup-13P1", "supervisor", "esa", "13P1")
    officer = Caller("esa-13P1", "esa_officer", "esa", "13P1")
    director = Caller("dir-13010001", "school_director", "school", "13010001")
    province = Caller("prov-13", "province_officer", "province", "13")
    today = date.today().isoformat()
    board = _school_board(platform, director.headers(platform.settings, 0))
    bare = [
        Endpoint("bare_get", "bare Flask GET", "bare", "GET", "/bare"),
        Endpoint("bare_post", "bare Flask POST", "bare", "POST", "/bare", body=_json({"a": 1, "b": "x"})),
    ]
    visit = {"school_code": "13010001", "scheduled_date": today, "mode": "onsite"}
    meeting = {"meeting_date": today, "agenda": ["ติดตามผล"], "location": "ห้องประชุม", "mode": "onsite"}
    return [
        *bare,
        # the request path without data: token, limiter (its counter is in the store), schema, response
        Endpoint("supervision_meta", "supervision GET /rubric-domains (no data)", "supervision", "GET",
                 "/api/v1/rubric-domains", supervisor),
        Endpoint("supervision_write", "supervision POST /visits", "supervision", "POST", "/api/v1/visits",
                 supervisor, _json(visit)),
        Endpoint("supervision_read", "supervision GET /visits", "supervision", "GET",
                 "/api/v1/visits?esa_code=13P1&page_size=20", supervisor),
        Endpoint("training_write", "training POST /programmes", "training", "POST", "/api/v1/programmes",
                 officer, _json(_programme(today))),
        Endpoint("training_read", "training GET /programmes", "training", "GET",
                 "/api/v1/programmes?page_size=20", officer),
        Endpoint("committee_write", "committee POST /committees/{id}/meetings", "committee", "POST",
                 f"/api/v1/committees/{board}/meetings", director, _json(meeting)),
        Endpoint("committee_read", "committee GET /committees", "committee", "GET",
                 "/api/v1/committees?page_size=20", director),
        Endpoint("achievement_write", "achievement POST /imports (1 row)", "achievement", "POST",
                 "/api/v1/imports", officer, _result_csv("13P1"), "text/csv"),
        Endpoint("achievement_read", "achievement GET /results", "achievement", "GET",
                 "/api/v1/results?school_code=13010001&page_size=20", officer),
        Endpoint("monitoring_read", "monitoring GET /views/province/13", "monitoring", "GET",
                 "/api/v1/views/province/13", province),
        # the baseline again at the end: on a shared machine its drift over the run shows in the details
        Endpoint("bare_get_again", "bare Flask GET (again)", "bare", "GET", "/bare"),
    ]  # fmt: skip


def _json(body: dict[str, Any]) -> Callable[[int], bytes]:
    data = json.dumps(body).encode()
    return lambda n: data


def _result_csv(esa: str) -> Callable[[int], bytes]:
    """One-row results whose mean changes with every request, so each import stores and publishes a change.
    Consecutive requests name different cells: imports of one cell at once conflict (422), by design."""
    schools = [s.code for s in demo_schools() if s.esa_code == esa]
    subjects = ("thai", "math", "science", "english")
    header = "test,academic_year,school_code,subject,grade,mean,tested"

    def body(n: int) -> bytes:
        school, subject = schools[n % len(schools)], subjects[n // len(schools) % len(subjects)]
        return f"{header}\nonet,2568,{school},{subject},P6,{30 + (n % 600) / 10},30\n".encode()

    return body


def _programme(today: str) -> dict[str, Any]:
    return {
        "title_th": "การจัดการเรียนรู้เชิงรุก", "title_en": "Active learning", "competency_area": "active learning",
        "subject": "all", "grade_band": "all", "credited_hours": 6, "start_date": today, "host_level": "esa",
        "host_code": "13P1", "min_attendance_share": 0.8, "min_assessment_score": 60,
    }  # fmt: skip


def _school_board(platform: Platform, director: dict[str, str]) -> str:
    conn = http.client.HTTPConnection(HOST, platform.settings.ports["committee"], timeout=10)
    conn.request("GET", "/api/v1/committees?school_code=13010001", headers=director)
    items = json.loads(conn.getresponse().read())["items"]
    conn.close()
    return str(items[0]["id"])


# ------------------------------------------------------------------------------------------------ load


class _Bare:
    """The bare app under the platform's gunicorn settings, on a free port."""

    def __init__(self, platform: Platform, log_path: Path) -> None:
        self.port = free_port()
        argv = gunicorn_argv("bench.api_load:bare_app()", self.port)
        self.proc: ServerProcess = spawn("bare", argv, log_path=log_path, env=platform.env, cwd=REPO_ROOT)

    def __enter__(self) -> int:
        try:
            wait_until(lambda: http_ready(f"http://{HOST}:{self.port}/bare"), timeout=30, what="the bare app")
        except TimeoutError:
            self.proc.stop()
            raise RuntimeError(f"the bare app did not start:\n{self.proc.log_tail()}") from None
        return self.port

    def __exit__(self, *exc: object) -> None:
        self.proc.stop()


def _hammer(endpoint: Endpoint, port: int, shape: Shape, settings: Settings) -> Result:
    """CLIENTS threads back to back for warm-up + seconds; only requests inside the measured window count."""
    began = time.perf_counter() + shape.warmup
    ended = began + shape.seconds
    result = Result(endpoint, shape.seconds)
    lock = threading.Lock()
    counter = iter(range(10**9))  # the n-th request of the endpoint, across threads (next() is atomic)

    def client(number: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        auth = endpoint.caller.headers(settings, number) if endpoint.caller else {}
        latencies, statuses = [], Counter[int]()
        while (start := time.perf_counter()) < ended:
            body = endpoint.body(next(counter)) if endpoint.body else None
            headers = {**auth, **({"Content-Type": endpoint.content_type} if body else {})}
            conn.request(endpoint.method, endpoint.path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read()
            done = time.perf_counter()
            if start >= began and done <= ended:
                latencies.append(done - start)
                statuses[response.status] += 1
            if response.status >= 300:
                result.first_error = (
                    result.first_error or f"{response.status} {text[:300].decode(errors='replace')}"
                )
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.statuses.update(statuses)

    threads = [threading.Thread(target=client, args=(i,), name=f"client-{i}") for i in range(shape.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


# ------------------------------------------------------------------------------------------------ report


def _figures(results: dict[str, Result], shape: Shape) -> list[Figure]:
    bare_get = (results["bare_get"].rate + results["bare_get_again"].rate) / 2
    baselines = {"GET": ("bare Flask GET, same gunicorn", bare_get),
                 "POST": ("bare Flask POST, same gunicorn", results["bare_post"].rate)}  # fmt: skip
    figures = []
    for key, result in results.items():
        if result.endpoint.service == "bare":
            continue
        baseline, baseline_rate = baselines[result.endpoint.method]
        figures.append(
            Figure(
                key=f"api_{key}",
                title=f"API {result.endpoint.title}",
                value=round(result.rate, 1),
                unit="req/s",
                baseline=baseline,
                baseline_value=round(baseline_rate, 1),
                ratio=round(result.rate / baseline_rate, 3) if baseline_rate else None,
                details=_details(result, shape, results),
            )
        )
    return figures


def _details(result: Result, shape: Shape, results: dict[str, Result]) -> dict[str, Any]:
    ok = sum(n for status, n in result.statuses.items() if status < 300)
    method = result.endpoint.method
    bare = [results["bare_get"], results["bare_get_again"]] if method == "GET" else [results["bare_post"]]
    return {
        "latency_ms": percentiles_ms(result.latencies),
        "requests": len(result.latencies),
        "non_2xx": {str(s): n for s, n in sorted(result.statuses.items()) if s >= 300},
        "first_error": result.first_error,
        "ok_share": round(ok / max(1, len(result.latencies)), 4),
        "clients": shape.clients,
        "seconds": shape.seconds,
        "baseline_runs": [
            {"req_s": round(b.rate, 1), "latency_ms": percentiles_ms(b.latencies)} for b in bare
        ],
        "endpoint": f"{method} {result.endpoint.path.split('?')[0]}",
    }
