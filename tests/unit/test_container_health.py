"""The container entry, healthcheck and worker heartbeat (deploy/entrypoint.py, deploy/healthcheck.py,
shared/heartbeat.py): pure logic, no network, no container."""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from deploy import entrypoint, healthcheck
from deploy.local.demo_activity import base_url
from shared import heartbeat, projection, relay
from shared.heartbeat import Heartbeat, age_s
from shared.projection import BatchResult, ProjectorRunner
from shared.relay import OutboxRelay
from shared.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_old(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


# --- heartbeat ---------------------------------------------------------------------------------------------


def test_heartbeat_without_a_path_writes_nothing(tmp_path: Path) -> None:
    assert Heartbeat(None).beat() is False
    assert Heartbeat("").beat() is False
    assert list(tmp_path.iterdir()) == []


def test_heartbeat_touches_at_most_once_per_interval(tmp_path: Path) -> None:
    path, clock = tmp_path / "hb", Clock()
    hb = Heartbeat(path, every_s=5, clock=clock)
    assert hb.beat() is True and path.exists()
    make_old(path, 120)
    clock.now += 4.9
    assert hb.beat() is False  # too soon: the file keeps its (old) time
    assert age_s(path) >= 119
    clock.now += 0.1
    assert hb.beat() is True
    assert age_s(path) < 5


def test_heartbeat_write_failure_is_not_raised(tmp_path: Path) -> None:
    hb = Heartbeat(tmp_path / "missing-dir" / "hb")
    assert hb.beat() is False
    assert hb.beat() is False  # retried on the next turn, warned once


def test_age_of_a_missing_file_is_none(tmp_path: Path) -> None:
    assert age_s(tmp_path / "nope") is None
    path = tmp_path / "hb"
    path.touch()
    make_old(path, 30)
    assert 29 <= age_s(path) <= 31  # type: ignore[operator]


def test_process_heartbeat_follows_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANP_HEARTBEAT_FILE", str(tmp_path / "hb"))
    heartbeat.process_heartbeat.cache_clear()
    try:
        heartbeat.beat()
        assert (tmp_path / "hb").exists()
    finally:
        heartbeat.process_heartbeat.cache_clear()
    monkeypatch.delenv("ANP_HEARTBEAT_FILE")
    assert Settings.from_env().heartbeat_file == ""  # unset by default: local runs and tests write nothing


def test_the_relay_loop_beats_every_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    beats: list[int] = []
    monkeypatch.setattr(relay, "beat", lambda: beats.append(1))
    stop = threading.Event()
    outbox = OutboxRelay(store=SimpleNamespace(), producer=SimpleNamespace())  # type: ignore[arg-type]
    turns = iter([1, 0])
    monkeypatch.setattr(outbox, "publish_pending", lambda: next(turns))
    outbox.run(stop, idle_wait_s=0, jobs=[lambda: stop.set() if len(beats) == 2 else None])
    assert len(beats) == 2  # a busy turn (no wait) beats too


def test_the_projector_loop_beats_every_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    beats: list[int] = []
    monkeypatch.setattr(projection, "beat", lambda: beats.append(1))
    consumer = SimpleNamespace(subscribe=lambda **_: None, close=lambda **_: None)
    writer = SimpleNamespace(projection=SimpleNamespace(topics=["t"]))
    runner = ProjectorRunner(writer, consumer, idle_wait_s=0)  # type: ignore[arg-type]
    stop = threading.Event()

    def step() -> BatchResult:
        if len(beats) == 3:
            stop.set()
        return BatchResult(applied=1)

    monkeypatch.setattr(runner, "step", step)
    runner.run(stop)
    assert len(beats) == 3


# --- healthcheck -------------------------------------------------------------------------------------------


def test_api_health_asks_health_on_the_port() -> None:
    asked: list[str] = []

    def http(url: str) -> tuple[bool, str]:
        asked.append(url)
        return True, "ok"

    assert healthcheck.check({"ANP_ROLE": "api", "ANP_SERVICE": "training", "PORT": "9000"}, http) == (
        True,
        "ok",
    )
    healthcheck.check({"ANP_SERVICE": "committee", "ANP_COMMITTEE_PORT": "9103"}, http)
    healthcheck.check({"ANP_ROLE": "api", "ANP_SERVICE": "achievement"}, http)
    assert asked == [
        "http://127.0.0.1:9000/health",
        "http://127.0.0.1:9103/health",
        "http://127.0.0.1:8104/health",
    ]


def test_api_health_fails_on_an_unknown_service() -> None:
    healthy, why = healthcheck.check({"ANP_ROLE": "api", "ANP_SERVICE": "nope"}, lambda url: (True, ""))
    assert not healthy and "ANP_SERVICE" in why


def test_worker_health_is_the_heartbeat_age(tmp_path: Path) -> None:
    path = tmp_path / "hb"
    env = {"ANP_ROLE": "services.monitoring.projector", "ANP_HEARTBEAT_FILE": str(path)}
    healthy, why = healthcheck.check(env)
    assert not healthy and "no heartbeat" in why
    path.touch()
    assert healthcheck.check(env)[0]
    make_old(path, 61)
    assert not healthcheck.check(env)[0]
    assert healthcheck.check({**env, "ANP_HEARTBEAT_MAX_AGE_S": "90"})[0]


def test_worker_health_needs_a_heartbeat_file() -> None:
    healthy, why = healthcheck.check({"ANP_ROLE": "services.supervision.relay"})
    assert not healthy and "ANP_HEARTBEAT_FILE" in why


def test_healthcheck_main_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "hb"
    monkeypatch.setenv("ANP_ROLE", "services.directory.relay")
    monkeypatch.setenv("ANP_HEARTBEAT_FILE", str(path))
    assert healthcheck.main() == 1
    path.touch()
    assert healthcheck.main() == 0


# --- entrypoint and gunicorn settings -------------------------------------------------------------------------


def test_entrypoint_runs_gunicorn_for_an_api() -> None:
    argv = entrypoint.command({"ANP_ROLE": "api", "ANP_SERVICE": "supervision"})
    assert argv[:3] == [sys.executable, "-m", "gunicorn"]
    assert argv[-1] == "services.supervision.app:create_app()"
    conf = Path(argv[argv.index("--config") + 1])
    assert conf.is_file() and conf.name == "gunicorn.conf.py"
    assert entrypoint.api_port({"ANP_SERVICE": "supervision"}) == 8101


def test_entrypoint_runs_a_worker_module() -> None:
    assert entrypoint.command({"ANP_ROLE": "services.monitoring.projector"}) == [
        sys.executable, "-m", "services.monitoring.projector",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "env",
    [{"ANP_ROLE": "api"}, {"ANP_ROLE": "api", "ANP_SERVICE": "directory"}, {"ANP_ROLE": "rm -rf /"},
     {"ANP_ROLE": "relay"}],
)  # fmt: skip
def test_entrypoint_rejects_bad_roles(env: dict[str, str]) -> None:
    with pytest.raises(entrypoint.RoleError):
        entrypoint.command(env)


def test_gunicorn_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = Path(entrypoint.GUNICORN_CONF)
    for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_MAX_REQUESTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", "8102")
    defaults = runpy.run_path(str(conf))
    assert (defaults["bind"], defaults["workers"], defaults["threads"]) == ("0.0.0.0:8102", 2, 1)
    assert defaults["max_requests"] == 0 and defaults["accesslog"] == "-"
    monkeypatch.setenv("GUNICORN_WORKERS", "5")
    monkeypatch.setenv("GUNICORN_THREADS", "4")
    monkeypatch.setenv("GUNICORN_TIMEOUT", "45")
    monkeypatch.setenv("GUNICORN_GRACEFUL_TIMEOUT", "25")
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS", "1000")
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS_JITTER", "100")
    conf_values = runpy.run_path(str(conf))
    assert [conf_values[k] for k in ("workers", "threads", "timeout", "graceful_timeout")] == [5, 4, 45, 25]
    assert (conf_values["max_requests"], conf_values["max_requests_jitter"]) == (1000, 100)


# --- the demo seed's hosts -------------------------------------------------------------------------------------


def test_demo_hosts_default_to_localhost_and_follow_the_compose_template() -> None:
    assert base_url(Settings(), "training") == "http://127.0.0.1:8102"
    compose = Settings().with_overrides(demo_api_host="{service}")
    assert base_url(compose, "monitoring") == "http://monitoring:8100"
