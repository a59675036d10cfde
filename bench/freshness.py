"""Freshness under a steady write load: from an API's 2xx to the change showing in the province view
(DESIGN §7: p99 ≤ 1 s).

The whole platform runs as `make run` runs it (bench/live_platform.py). Writer threads each own a *lane*: one
counter of one ESA area among the children of province 13's view that only that lane's writes move (visits
done, meetings held, training completions). A lane sends its writes one after another (the next after the
previous 2xx), so they commit in order and, keyed by ESA area, are published and projected in order: when the
lane's counter reads base + k, exactly its first k writes are visible. One poller reads the province view in a
tight loop, as a province officer, and stamps each write the first time it shows.

Stages come from the outbox afterwards (every write sends its X-Request-Id, which becomes its events'
correlation id): commit → published by the relay, and published → seen in the view.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import requests
from pymongo import MongoClient

from bench.harness import Bench, Figure
from bench.live_platform import bearer, seeded_platform, wait_quiet
from deploy.local.demo_activity import Api, committee_caller, demo_schools, esa_officer, supervisor
from deploy.local.launch import Platform
from shared.store import OUTBOX

PROVINCE = "13"
TARGET_P99_MS = 1000.0
VISIBLE_DEADLINE_S = 30.0  # after the last write: what has not shown by then counts as lost
RUBRIC = {"learning_design": 3, "teaching_methods": 3, "classroom_management": 4, "assessment": 3}


@dataclass(frozen=True)
class Load:
    writes_per_s: float
    seconds: float


LOADS = {"small": Load(10, 40), "full": Load(25, 120)}


@dataclass
class Write:
    request_id: str
    sent: float  # wall-clock seconds, comparable with the store's timestamps
    acked: float
    visible: float | None = None


# one timed write: (path, headers, body); prepared before the clock starts
Call = tuple[str, dict[str, str], dict[str, Any]]


@dataclass
class Lane:
    name: str
    service: str
    esa: str
    section: str  # of a child in the view: supervision, committee, training
    counter: str
    prepare: Callable[[Api, int], list[Call]]
    calls: list[Call] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    base: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, view: dict[str, Any]) -> int:
        child = next(c for c in view["children"] if c["code"] == self.esa)
        return int(child[self.section][self.counter])


def run(ctx: Bench) -> list[Figure]:
    load = LOADS.get(ctx.scale.name, LOADS["small"])
    with seeded_platform(ctx, "freshness", seeds=("the demo committees",)) as platform:
        lanes = _lanes()
        per_lane = math.ceil(load.writes_per_s * load.seconds / len(lanes))
        _prepare(ctx, platform, lanes, per_lane)
        with ctx.progress("freshness: waiting for the relays and the projector to catch up", None):
            wait_quiet(platform)
        seconds, poll_ms = _measure(ctx, platform, lanes, len(lanes) / load.writes_per_s)
        stages = _stages(platform, lanes)
    return _figures(load, lanes, seconds, stages, poll_ms)


# ------------------------------------------------------------------------------------------------ lanes


def _lanes() -> list[Lane]:
    visits = [Lane(f"visits done {esa}", "supervision", esa, "supervision", "visits_done", _visits(esa))
              for esa in ("13P1", "13P2", "13S1")]  # fmt: skip
    return [
        *visits,
        Lane("meetings held 13P1", "committee", "13P1", "committee", "meetings_held", _meetings),
        Lane("completions 13P1", "training", "13P1", "training", "completions", _completions("13P1")),
    ]


def _visits(esa: str) -> Callable[[Api, int], list[Call]]:
    """Visits scheduled today at the area's schools; the timed write completes one."""

    def prepare(api: Api, n: int) -> list[Call]:
        token = supervisor(api, esa)
        schools = [s for s in demo_schools() if s.esa_code == esa]
        today = date.today().isoformat()
        calls = []
        for i in range(n):
            school = schools[i % len(schools)]
            body = {"school_code": school.code, "scheduled_date": today, "mode": "onsite"}
            visit = api.call("supervision", "POST", "/visits", token, body)
            done = {"visit_date": today, "mode": "onsite", "rubric_scores": RUBRIC,
                    "teachers_observed": [school.teachers[i % len(school.teachers)]]}  # fmt: skip
            calls.append((f"/visits/{visit['id']}/complete", _auth(token), done))
        return calls

    return prepare


def _meetings(api: Api, n: int) -> list[Call]:
    """Meetings of the demo school board and network committee scheduled today; the timed write holds one."""
    boards = []
    for committee in ("school:13010001", "cluster:13P1-C01"):
        token, where = committee_caller(api, committee)
        found = api.call("committee", "GET", "/committees", token, params={**where, "page_size": 50})
        boards.append((token, found["items"][0]))
    today = date.today().isoformat()
    calls = []
    for i in range(n):
        token, board = boards[i % len(boards)]
        body = {"meeting_date": today, "agenda": ["ติดตามผล"], "location": "ห้องประชุม", "mode": "onsite"}
        meeting = api.call("committee", "POST", f"/committees/{board['id']}/meetings", token, body)
        attendance = {m["id"]: "present" for m in board["members"] if _seated(m, today)}
        hold = {"attendance": attendance, "minutes": "รับทราบ"}
        calls.append((f"/meetings/{meeting['id']}/hold", _auth(token), hold))
    return calls


def _seated(member: dict[str, Any], day: str) -> bool:
    return bool(member["term_start"] <= day and (not member["term_end"] or day <= member["term_end"]))


def _completions(esa: str) -> Callable[[Api, int], list[Call]]:
    """Programmes with one online session today, every teacher of the area enrolled and present; the timed
    write records one teacher's completion (once per teacher and programme, hence as many programmes as needed)."""

    def prepare(api: Api, n: int) -> list[Call]:
        token = esa_officer(api, esa)
        teachers = [t for s in demo_schools() if s.esa_code == esa for t in s.teachers]
        calls: list[Call] = []
        while len(calls) < n:
            pid, session = _programme(api, token, esa)
            for teacher in teachers[: n - len(calls)]:
                api.call("training", "POST", f"/programmes/{pid}/enrolments", token,
                         {"teacher_id": teacher, "mode": "online"})  # fmt: skip
                api.call("training", "POST", f"/programmes/{pid}/attendance", token,
                         {"session_id": session, "teacher_id": teacher, "mode": "online", "minutes": 60})  # fmt: skip
                done = {"teacher_id": teacher, "assessment_score": 80}
                calls.append((f"/programmes/{pid}/completions", _auth(token), done))
        return calls

    return prepare


def _programme(api: Api, token: str, esa: str) -> tuple[str, str]:
    today = date.today().isoformat()
    programme = api.call("training", "POST", "/programmes", token, {
        "title_th": "การประเมินเพื่อการเรียนรู้", "title_en": "Assessment for learning",
        "competency_area": "assessment", "subject": "all", "grade_band": "all", "credited_hours": 3,
        "start_date": today, "host_level": "esa", "host_code": esa,
        "min_attendance_share": 0.8, "min_assessment_score": 60,
    })  # fmt: skip
    pid = programme["id"]
    session = api.call("training", "POST", f"/programmes/{pid}/sessions", token, {
        "mode": "online", "session_date": today, "start_time": "09:00", "end_time": "10:00", "title": "ครั้งที่ 1",
        "meeting_link": "https://meet.example.org/anp-bench", "capacity_online": 500,
    })  # fmt: skip
    api.call("training", "POST", f"/programmes/{pid}/publish", token, {})
    return pid, session["session"]["id"]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _prepare(ctx: Bench, platform: Platform, lanes: list[Lane], per_lane: int) -> None:
    """Everything the timed writes need, lanes in parallel (not timed)."""
    api = Api(platform.settings)
    with ctx.progress("freshness: preparing the writes", len(lanes)) as advance:

        def prepare(lane: Lane) -> None:
            lane.calls = lane.prepare(api, per_lane)
            advance()

        with ThreadPoolExecutor(len(lanes)) as pool:
            list(pool.map(prepare, lanes))


# ------------------------------------------------------------------------------------------------ measure


class Poller(threading.Thread):
    """Reads the province view in a tight loop and stamps each lane's writes as they show."""

    def __init__(self, platform: Platform, lanes: list[Lane]) -> None:
        super().__init__(name="freshness-poller", daemon=True)
        self.url = platform.url("monitoring", f"/api/v1/views/province/{PROVINCE}")
        self.headers = bearer(platform.settings, "bench-prov", "province_officer", "province", PROVINCE)
        self.lanes = lanes
        self.lock = threading.Lock()  # guards the lanes' write lists
        self.stop = threading.Event()
        self.session = requests.Session()
        self.polls = 0
        self.poll_seconds = 0.0
        self.error: Exception | None = None

    def view(self) -> dict[str, Any]:
        response = self.session.get(self.url, headers=self.headers, timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def run(self) -> None:
        try:
            self._poll()
        except Exception as exc:  # raised again by the measuring thread: a dead poller must not look like lag
            self.error = exc

    def _poll(self) -> None:
        while not self.stop.is_set():
            began = time.time()
            view = self.view()
            seen = time.time()  # the response's arrival: an upper bound on when the change became visible
            self.polls += 1
            self.poll_seconds += seen - began
            with self.lock:
                for lane in self.lanes:
                    for write in lane.writes[: lane.count(view) - lane.base]:
                        if write.visible is None:
                            write.visible = seen

    def all_visible(self) -> bool:
        with self.lock:
            return all(w.visible is not None for lane in self.lanes for w in lane.writes)


def _measure(ctx: Bench, platform: Platform, lanes: list[Lane], interval: float) -> tuple[float, float]:
    """Runs the load; returns its duration (s) and the poller's mean read time (ms)."""
    poller = Poller(platform, lanes)
    view = poller.view()
    for lane in lanes:
        lane.base = lane.count(view)
    total = sum(len(lane.calls) for lane in lanes)
    began = time.time()
    with ctx.progress("freshness: steady writes (acknowledged)", total) as advance:
        poller.start()
        # lanes start staggered so that the writes spread evenly over each interval
        writers = [
            threading.Thread(
                target=_write_lane,
                args=(platform, lane, poller.lock, began + interval * i / len(lanes), interval, advance),
            )
            for i, lane in enumerate(lanes)
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
    ended = time.time()
    with ctx.progress("freshness: waiting for the last writes to show", None):
        deadline = time.monotonic() + VISIBLE_DEADLINE_S
        while not poller.all_visible() and time.monotonic() < deadline and poller.is_alive():
            time.sleep(0.05)
    poller.stop.set()
    poller.join()
    if poller.error is not None:
        raise RuntimeError(f"reading the province view failed: {poller.error!r}") from poller.error
    return ended - began, round(1000 * poller.poll_seconds / max(1, poller.polls), 1)


def _write_lane(
    platform: Platform,
    lane: Lane,
    lock: threading.Lock,
    start: float,
    interval: float,
    advance: Callable[[], None],
) -> None:
    """The lane's writes at a steady pace, each after the previous 2xx (so they commit in order)."""
    session = requests.Session()
    base_url = platform.url(lane.service, "/api/v1")
    for k, (path, headers, body) in enumerate(lane.calls):
        time.sleep(max(0.0, start + k * interval - time.time()))
        request_id = f"bench-{uuid.uuid4().hex}"
        sent = time.time()
        try:
            response = session.post(
                base_url + path, json=body, headers={**headers, "X-Request-Id": request_id}, timeout=30
            )
        except requests.RequestException as exc:
            lane.errors.append(repr(exc))
            return
        acked = time.time()
        if response.status_code >= 300:
            # a lost write would shift every later count in this lane: stop the lane, report it
            lane.errors.append(f"{response.status_code} {response.text[:200]}")
            return
        with lock:
            lane.writes.append(Write(request_id, sent, acked))
        advance()


# ------------------------------------------------------------------------------------------------ report


def _stages(platform: Platform, lanes: list[Lane]) -> dict[str, list[float]]:
    """Seconds from commit to published and from published to visible, from the outbox rows of each write."""
    relay, projected = [], []
    with MongoClient(platform.settings.mongo_uri, tz_aware=True) as mongo:
        for lane in lanes:
            by_id = {w.request_id: w for w in lane.writes}
            rows = mongo[platform.settings.db_name(lane.service)][OUTBOX].find(
                {"event.correlation_id": {"$in": list(by_id)}},
                {"event.correlation_id": 1, "created_at": 1, "published_at": 1},
            )
            for row in rows:
                write = by_id[row["event"]["correlation_id"]]
                if row["published_at"] is None or write.visible is None:
                    continue
                relay.append((row["published_at"] - row["created_at"]).total_seconds())
                projected.append(write.visible - row["published_at"].timestamp())
    return {"commit → published (relay)": relay, "published → in the view": projected}


def percentiles_ms(seconds: Iterable[float]) -> dict[str, float]:
    """p50, p95, p99 and max in milliseconds (nearest rank); empty when there is nothing to rank."""
    ranked = sorted(seconds)
    if not ranked:
        return {}

    def rank(q: float) -> float:
        return round(ranked[max(0, math.ceil(q * len(ranked)) - 1)] * 1000, 1)

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "max": rank(1.0)}


def _figures(
    load: Load, lanes: list[Lane], seconds: float, stages: dict[str, list[float]], poll_ms: float
) -> list[Figure]:
    writes = [w for lane in lanes for w in lane.writes]
    seen = [max(0.0, w.visible - w.acked) for w in writes if w.visible is not None]
    lost = len(writes) - len(seen)
    errors = [e for lane in lanes for e in lane.errors]
    latency = percentiles_ms(seen)
    p99 = latency.get("p99", math.inf)
    rate = len(writes) / seconds if seconds > 0 else 0.0
    details: dict[str, Any] = {
        "writes": len(writes),
        "not_visible_within_s": {"count": lost, "deadline_s": VISIBLE_DEADLINE_S},
        "api_errors": errors[:5],
        "latency_ms": latency,
        "stages_ms": {name: percentiles_ms(values) for name, values in stages.items()},
        "api_2xx_ms": percentiles_ms(w.acked - w.sent for w in writes),
        "lanes": {lane.name: len(lane.writes) for lane in lanes},
        "writer_threads": len(lanes),
        "view": f"province/{PROVINCE}",
        "view_read_ms_mean": poll_ms,  # how finely visibility is resolved
    }
    return [
        Figure(
            key="freshness",
            title="Freshness: API 2xx → province view, p99",
            value=p99,
            unit="ms",
            target=f"p99 ≤ {TARGET_P99_MS:.0f} ms",
            met=p99 <= TARGET_P99_MS and lost == 0 and not errors,
            details=details,
        ),
        Figure(
            key="freshness_write_rate",
            title="Freshness: steady write rate achieved",
            value=round(rate, 2),
            unit="writes/s",
            baseline="rate asked for",
            baseline_value=load.writes_per_s,
            ratio=round(rate / load.writes_per_s, 3),
            details={"seconds": round(seconds, 1), "writes": len(writes)},
        ),
    ]
