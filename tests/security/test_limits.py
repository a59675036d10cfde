"""Limits: body size (413), page size (422 above ANP_MAX_PAGE_SIZE on every list), and the per-caller rate limit
(429 with Retry-After) shared by every gunicorn worker through the document store."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from flask import Flask
from pymongo import MongoClient

from deploy.local.servers import ServerProcess, free_port, spawn, wait_until
from services.achievement.app import create_app as achievement_app
from services.committee.app import create_app as committee_app
from services.monitoring.app import create_app as monitoring_app
from services.supervision.app import create_app as supervision_app
from services.training.app import create_app as training_app
from shared import ratelimit
from shared.auth import issue_token
from shared.settings import Settings
from tests.stack import Stack

APPS: dict[str, Callable[[Settings], Flask]] = {
    "supervision": supervision_app,
    "training": training_app,
    "committee": committee_app,
    "achievement": achievement_app,
    "monitoring": monitoring_app,
}
LIMIT = 5


def bearer(settings: Settings, sub: str) -> dict[str, str]:
    token = issue_token(settings, sub=sub, role="admin", scope_level="national", scope_code=None)
    return {"Authorization": f"Bearer {token}"}


def assert_error_shape(response, status: int) -> None:  # type: ignore[no-untyped-def]
    body = response.json() if hasattr(response, "ok") else response.get_json()
    assert response.status_code == status, body
    assert body["code"] == status and body["status"] and isinstance(body["message"], str)


@pytest.fixture(scope="module")
def app_settings(settings: Settings) -> Settings:
    return settings.with_overrides(db_prefix=f"{settings.db_prefix}_lim", rate_limit_per_minute=0)


@pytest.mark.parametrize("service", sorted(APPS))
def test_every_list_refuses_a_page_size_over_the_maximum(service: str, app_settings: Settings) -> None:
    app = APPS[service](app_settings)
    client = app.test_client()
    spec = client.get("/openapi.json").get_json()
    lists = [
        path
        for path, item in spec["paths"].items()
        if any(p.get("name") == "page_size" for p in item.get("get", {}).get("parameters", []))
    ]
    assert lists, f"{service} documents no list"
    headers = bearer(app_settings, "pager")
    for path in lists:
        url = re.sub(r"\{[^}]+\}", "x1", path)
        too_big = client.get(url, query_string={"page_size": app_settings.max_page_size + 1}, headers=headers)
        assert_error_shape(too_big, 422)
        assert "page_size" in str(too_big.get_json().get("errors")), path
    # the maximum follows the setting, whatever a list's schema says
    lowered = APPS[service](app_settings.with_overrides(max_page_size=10)).test_client()
    assert_error_shape(
        lowered.get(re.sub(r"\{[^}]+\}", "x1", lists[0]), query_string={"page_size": 11}, headers=headers),
        422,
    )


def test_a_body_over_the_limit_is_413_in_the_one_error_shape(app_settings: Settings) -> None:
    client = supervision_app(app_settings).test_client()
    response = client.post(
        "/api/v1/visits",
        data=b"{" + b" " * app_settings.max_body_bytes + b"}",
        headers={**bearer(app_settings, "big"), "Content-Type": "application/json"},
    )
    assert_error_shape(response, 413)


def test_the_window_counter_is_atomic_and_expires(app_settings: Settings) -> None:
    mongo = MongoClient(app_settings.mongo_uri)
    try:
        db = mongo[app_settings.db_name("ratelimit_unit")]
        ratelimit.ensure_index(db)
        start = 1_800_000_000.0  # the start of a window
        assert [ratelimit.hit(db, "sub:a", 3, now=start + i) for i in range(3)] == [0, 0, 0]
        assert ratelimit.hit(db, "sub:a", 3, now=start + 10) == 50  # seconds left in the window
        assert ratelimit.hit(db, "sub:b", 3, now=start + 10) == 0  # per caller
        assert ratelimit.hit(db, "sub:a", 3, now=start + 60) == 0  # a new window
        ttl = [i for i in db[ratelimit.COLLECTION].list_indexes() if "expireAfterSeconds" in i]
        assert ttl and ttl[0]["key"] == {"expires_at": 1}
        assert db[ratelimit.COLLECTION].find_one({"_id": f"sub:a|{int(start // 60)}"})["count"] == 4
    finally:
        mongo.close()


# --- end to end: one extra gunicorn (2 workers) of one service, with a low limit ---


@pytest.fixture(scope="module")
def limited(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ServerProcess]]:
    """Supervision under gunicorn with 2 workers and ANP_RATE_LIMIT_PER_MINUTE=5, beside the shared stack."""
    port = free_port()
    env = {
        **os.environ,
        **stack.settings.with_overrides(rate_limit_per_minute=LIMIT).to_env(),
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path_factory.mktemp("limited") / "supervision-limited.log"
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "-",
        "--access-logformat",
        "pid=%(p)s status=%(s)s path=%(U)s",
        "services.supervision.app:create_app()",
    ]
    proc = spawn("supervision-limited", argv, log_path=log, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _up(base), timeout=60, what="the rate-limited supervision")
        yield base, proc
    finally:
        proc.stop(timeout=10)


def _up(base: str) -> bool:
    try:
        return requests.get(f"{base}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _fresh_window() -> None:
    """Not at the end of a minute: all the requests of a check fall in one window."""
    left = 60 - time.time() % 60
    if left < 15:
        time.sleep(left + 0.5)


def _burst(base: str, headers: dict[str, str], n: int) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=12) as pool:
        return list(
            pool.map(lambda _: requests.get(f"{base}/api/v1/visits", headers=headers, timeout=10), range(n))
        )


@pytest.mark.e2e
def test_the_rate_limit_is_shared_by_the_workers(stack: Stack, limited: tuple[str, ServerProcess]) -> None:
    base, proc = limited
    assert proc.log_path is not None
    n = 24
    # one sync worker may accept a whole fast burst by itself; sharing is only shown by a burst both answered
    for _attempt in range(5):
        sub = f"rl-{time.time_ns()}"
        _fresh_window()
        seen = proc.log_path.stat().st_size
        responses = _burst(base, bearer(stack.settings, sub), n)
        with proc.log_path.open("rb") as log:
            log.seek(seen)
            answered = log.read().decode(errors="replace")
        pids = set(re.findall(r"pid=<?(\d+)>? status=\d+ path=/api/v1/visits", answered))
        if len(pids) == 2:
            break
    else:
        pytest.fail("in five bursts of 24 requests, one worker always answered alone")
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == LIMIT, statuses  # one count, not one per worker
    limited_ones = [r for r in responses if r.status_code == 429]
    assert len(limited_ones) == n - LIMIT
    for r in limited_ones:
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert_error_shape(r, 429)
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    counters = list(stack.db("supervision")[ratelimit.COLLECTION].find({"_id": {"$regex": f"^sub:{sub}\\|"}}))
    assert len(counters) == 1 and counters[0]["count"] == n
    # probes are never limited, and other callers have their own count
    assert all(requests.get(f"{base}/health", timeout=5).status_code == 200 for _ in range(LIMIT + 2))
    assert requests.get(f"{base}/api/v1/visits", headers=bearer(stack.settings, sub + "-2"), timeout=5).ok


@pytest.mark.e2e
def test_callers_without_a_valid_token_are_limited_by_address(
    stack: Stack, limited: tuple[str, ServerProcess]
) -> None:
    base, _ = limited
    _fresh_window()
    statuses = [
        requests.get(
            f"{base}/api/v1/visits", headers={"Authorization": "Bearer nonsense"}, timeout=5
        ).status_code
        for _ in range(LIMIT + 3)
    ]
    assert set(statuses[:LIMIT]) <= {401, 429} and statuses[-1] == 429, statuses


@pytest.mark.e2e
def test_a_chunked_body_over_the_limit_is_413(stack: Stack) -> None:
    """No Content-Length: the body is cut off while it is read, through the real server (gunicorn)."""

    def chunks() -> Iterator[bytes]:
        yield b'{"school_code": "'
        for _ in range(stack.settings.max_body_bytes // 4096 + 2):
            yield b"1" * 4096
        yield b'"}'

    response = requests.post(
        stack.url("supervision", "/api/v1/visits"),
        data=chunks(),
        headers={**bearer(stack.settings, "chunked"), "Content-Type": "application/json"},
        timeout=10,
    )
    assert "Content-Length" not in response.request.headers
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert_error_shape(response, 413)
