"""Graceful shutdown under gunicorn: SIGTERM loses nothing that was acknowledged.

The supervision service runs under its own gunicorn (2 sync workers, --graceful-timeout 10) while several
threads schedule visits as fast as they can. SIGTERM goes to the master (and its process group) mid-stream; the
threads keep sending until connections are refused. Oracle: every visit answered 201 is stored with its outbox
row and its audit entry; no stored visit lacks either (nothing half-done); a request that got no answer or an
error may be absent, but if its visit is present it is complete too. Then the stored visits go through the
rest of the pipeline (relay, topic, projector), and the views equal tests/oracle.py's recomputation from the
service's database."""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from deploy.local.servers import free_port, wait_until
from shared.auth import issue_token
from shared.clients import mongo_client
from shared.settings import Settings
from shared.store import AUDIT, OUTBOX, Store
from tests.integration.test_supervision import VISIT, seed_directory
from tests.reliability.pipeline import check_views, outbox_to_own_topic
from tests.stack import _gunicorn

pytestmark = pytest.mark.e2e

THREADS = 6
FIRST_DAY = date(2026, 6, 1)
SENDING_DEADLINE = 30  # s: the senders give up by then even if connections were never refused


@dataclass
class Outcome:
    day: str
    status: int | None  # None: no HTTP response at all
    visit_id: str | None = None
    error: str = ""
    sent_at: float = 0.0
    done_at: float = 0.0


def _refused(error: requests.RequestException) -> bool:
    return isinstance(error, requests.ConnectionError) and "refused" in str(error).lower()


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/ready", timeout=2).status_code == 200
    except requests.RequestException:  # gunicorn accepts before its workers have booted
        return False


def test_sigterm_loses_no_acknowledged_visit(settings: Settings, tmp_path: Path) -> None:
    started = time.monotonic()
    own = settings.with_overrides(
        db_prefix=f"{settings.db_prefix}_g{uuid.uuid4().hex[:8]}",
        ports={"supervision": free_port()},
        rate_limit_per_minute=0,
    )
    client = mongo_client(own)
    store = Store(client, own.db_name("supervision"))
    seed_directory(store)
    env = {**os.environ, **own.to_env(), "PYTHONUNBUFFERED": "1"}
    proc = _gunicorn("supervision", own, env, tmp_path)
    url = f"http://127.0.0.1:{own.ports['supervision']}"
    jwt = issue_token(own, sub="supervisor-13P1", role="supervisor", scope_level="esa", scope_code="13P1")
    headers = {"Authorization": f"Bearer {jwt}"}

    outcomes: list[Outcome] = []
    lock = threading.Lock()
    days = itertools.count()
    stop = threading.Event()

    def send() -> None:
        deadline = time.monotonic() + SENDING_DEADLINE
        while not stop.is_set() and time.monotonic() < deadline:
            day = (FIRST_DAY + timedelta(days=next(days))).isoformat()  # distinct bodies: one date each
            body = {**VISIT, "scheduled_date": day}
            sent_at = time.monotonic()
            try:
                response = requests.post(f"{url}/api/v1/visits", json=body, headers=headers, timeout=15)
            except requests.RequestException as error:
                error_name = "refused" if _refused(error) else f"{type(error).__name__}: {error}"[:200]
                with lock:
                    outcomes.append(
                        Outcome(day, None, error=error_name, sent_at=sent_at, done_at=time.monotonic())
                    )
                if _refused(error):
                    return
                continue
            visit_id = response.json().get("id") if response.status_code == 201 else None
            outcome = Outcome(
                day, response.status_code, visit_id, response.text[:200], sent_at, time.monotonic()
            )
            with lock:
                outcomes.append(outcome)

    try:
        wait_until(lambda: _ready(url), timeout=60, what="supervision /ready under gunicorn")
        threads = [threading.Thread(target=send, daemon=True) for _ in range(THREADS)]
        for thread in threads:
            thread.start()

        def acknowledged_so_far() -> int:
            with lock:
                return sum(o.status == 201 for o in outcomes)

        wait_until(lambda: acknowledged_so_far() >= 20, timeout=30, what="the first visits acknowledged")
        time.sleep(random.uniform(0.1, 0.4))  # the kill point, not synchronisation
        killed_at = time.monotonic()
        proc.terminate()  # SIGTERM to the master's process group
        wait_until(lambda: not proc.alive(), timeout=20, what="gunicorn exiting after SIGTERM")
        for thread in threads:
            thread.join(timeout=SENDING_DEADLINE)
        assert not any(t.is_alive() for t in threads), "senders still running after the deadline"
        exit_code = proc.returncode
    finally:
        stop.set()
        proc.stop(timeout=10)

    db = store.db
    visits = {v["scheduled_date"]: v for v in db["visits"].find({}, {"scheduled_date": 1})}
    outboxed = {r["event"]["aggregate_id"] for r in db[OUTBOX].find({}, {"event.aggregate_id": 1})}
    audited = {a["target"] for a in db[AUDIT].find({"action": "visit.schedule"}, {"target": 1})}

    def stored_day(day: str) -> str | None:
        visit = visits.get(day)
        return None if visit is None else str(visit["_id"])

    acknowledged = [o for o in outcomes if o.status == 201]
    refused = [o for o in outcomes if o.error == "refused"]
    failed = [o for o in outcomes if o.status != 201]
    in_flight = [o for o in outcomes if o.sent_at < killed_at < o.done_at]
    after = [o for o in outcomes if o.sent_at > killed_at]
    statuses = sorted({o.status for o in outcomes}, key=str)
    print(
        f"\nsent {len(outcomes)}, acknowledged {len(acknowledged)}, refused/failed {len(failed)} "
        f"(refused {len(refused)}, other errors {sum(o.status is None for o in outcomes) - len(refused)}, "
        f"HTTP errors {sum(o.status not in (None, 201) for o in outcomes)}), "
        f"in flight at SIGTERM {len(in_flight)} (acknowledged {sum(o.status == 201 for o in in_flight)}), "
        f"sent after SIGTERM {len(after)} (acknowledged {sum(o.status == 201 for o in after)}), "
        f"stored {len(visits)} (of the unacknowledged {sum(stored_day(o.day) is not None for o in failed)}), "
        f"statuses {statuses}, gunicorn exit {exit_code}, {time.monotonic() - started:.1f} s"
    )
    unexpected = [o for o in outcomes if o.status not in (None, 201, 502, 503)]
    assert not unexpected, f"unexpected answers: {unexpected[:5]}"
    assert len(acknowledged) >= 20
    other_errors = [o.error for o in outcomes if o.status is None and o.error != "refused"]
    if other_errors:
        print(f"errors other than refusal: {other_errors[:5]}")
    assert refused, "no request was ever refused: SIGTERM did not stop it"
    lost = [o for o in acknowledged if stored_day(o.day) != o.visit_id]
    assert not lost, f"acknowledged but not stored: {lost[:5]}"
    half_done = [
        (day, v["_id"], v["_id"] in outboxed, v["_id"] in audited)
        for day, v in visits.items()
        if v["_id"] not in outboxed or v["_id"] not in audited
    ]
    assert not half_done, f"visits without their outbox row or audit entry: {half_done[:5]}"
    strays = set(visits) - {o.day for o in outcomes}
    assert not strays, f"visits nobody asked for: {sorted(strays)[:5]}"

    # the oracle: the views of everything stored equal a recomputation from the service's own database
    try:
        unique = own.db_prefix.rsplit("_", 1)[-1]
        topic = outbox_to_own_topic(own, store, unique)
        checked = check_views(own, store, [topic], f"{unique}-views")
    finally:
        client.close()
    print(checked.line(kills="1 (SIGTERM to gunicorn)"))
    assert checked.counts.applied == len(visits) and checked.dead_letters == 0
