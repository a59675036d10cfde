"""The achievement service against the real local document store and broker: each result is stored with its
outbox event and audit entry in one transaction, a re-import writes nothing, a correction publishes exactly
one event naming what it replaces, a bad row stores nothing of itself, the relay publishes to
`achievement.events`, and the CLI imports a generated file."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import TopicPartition
from rich.console import Console

from deploy.local.servers import ensure_topics, wait_until
from services.achievement import cli, generator, handlers, relay
from services.achievement.app import create_app
from services.achievement.domain import Result
from services.achievement.repository import TOPIC, MongoRepository
from shared.catalog import catalog
from shared.clients import kafka_consumer, mongo_client
from shared.settings import Settings
from shared.store import AUDIT, OUTBOX, Store
from tests.integration.test_supervision import Service, seed_directory

pytestmark = pytest.mark.integration

HEADER = "test,academic_year,school_code,subject,grade,mean,tested,band_0-49.99,band_50-100\n"
FILE = (
    (
        HEADER + "onet,2568,13010001,math,P6,41.25,30,20,10\n"
        "nt,2568,13010002,literacy,P3,55.5,28,,\n"
        "onet,2568,99999999,math,P6,40,10,5,5\n"  # unknown school
        "onet,2568,13010001,thai,P6,140,10,5,5\n"  # out of scale
    ).encode()
)
RESULT = "onet-2568-13010001-math-P6"


@pytest.fixture
def service(settings: Settings, unique: str) -> Iterator[Service]:
    own = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}")
    client = mongo_client(own)
    store = Store(client, own.db_name("achievement"))
    seed_directory(store)
    app = create_app(own)
    try:
        with app.test_client() as test_client:
            yield Service(own, test_client, store)
    finally:
        resources = app.extensions["anp"]
        if "mongo" in resources.__dict__:
            resources.mongo.close()
        client.close()


def upload(service: Service, data: bytes, **headers: str) -> Any:
    auth = service.auth("esa_officer", "esa", "13P1")
    return service.client.post(
        "/api/v1/imports?file_name=onet.csv", data=data, headers={**auth, **headers}, content_type="text/csv"
    )


def test_an_import_stores_results_events_and_audit_and_a_re_import_nothing(service: Service) -> None:
    response = upload(service, FILE)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["rows"], body["new"], body["failed_rows"]) == (4, 2, 2)
    assert [(e["line"], e["column"]) for e in body["errors"]] == [(4, "school_code"), (5, "mean")]
    # a bad row stores nothing of itself
    assert service.count("results") == 2
    assert service.count("results", {"school_code": "99999999"}) == 0
    assert service.count(OUTBOX) == 2 and service.count(AUDIT, {"action": "result.record"}) == 2

    stored = service.store.db["results"].find_one({"_id": RESULT})
    assert (stored["version"], stored["mean"], stored["distribution"]) == (
        1,
        41.25,
        [{"band": "0-49.99", "students": 20}, {"band": "50-100", "students": 10}],
    )
    assert stored["org"]["esa_code"] == "13P1" and stored["period"] == {"academic_year": 2568, "semester": 2}
    row = service.store.db[OUTBOX].find_one({"event.aggregate_id": RESULT})
    assert (row["topic"], row["key"], row["published_at"]) == (TOPIC, "13P1", None)
    assert row["event"]["payload"]["replaces"] is None
    record = service.store.db["imports"].find_one({"_id": body["import_id"]})
    assert (record["actor"], record["file_name"], record["new"], record["status"]) == (
        "esa_officer-13P1", "onet.csv", 2, "completed_with_errors"
    )  # fmt: skip

    counts = (
        service.count("results"),
        service.count(OUTBOX),
        service.count(AUDIT, {"action": {"$ne": "import.start"}}),
    )
    again = upload(service, FILE).get_json()
    assert (again["new"], again["corrected"], again["unchanged"]) == (0, 0, 2)
    assert (
        service.count("results"),
        service.count(OUTBOX),
        service.count(AUDIT, {"action": {"$ne": "import.start"}}),
    ) == counts
    got = service.client.get(
        f"/api/v1/results/{RESULT}", headers=service.auth("teacher", "school", "13010001")
    )
    assert got.status_code == 200 and got.get_json()["mean"] == 41.25


def test_a_correction_publishes_exactly_one_event_with_what_it_replaces(service: Service) -> None:
    assert upload(service, FILE).status_code == 201
    before = service.count(OUTBOX)
    fixed = FILE.replace(b"41.25,30,20,10", b"43.5,31,20,11")
    body = upload(service, fixed).get_json()
    assert (body["new"], body["corrected"], body["unchanged"]) == (0, 1, 1)
    assert service.count(OUTBOX) == before + 1
    rows = list(
        service.store.db[OUTBOX].find({"event.aggregate_id": RESULT}).sort([("created_at", 1), ("seq", 1)])
    )
    latest = rows[-1]["event"]
    assert (latest["aggregate_version"], latest["payload"]["replaces"]) == (2, {"mean": 41.25, "tested": 30})
    assert (latest["payload"]["mean"], latest["payload"]["tested"]) == (43.5, 31)
    stored = service.store.db["results"].find_one({"_id": RESULT})
    assert (stored["version"], stored["mean"], stored["import_id"]) == (2, 43.5, body["import_id"])
    audit = service.store.db[AUDIT].find_one({"target": RESULT, "action": "result.correct"})
    assert (audit["before"]["mean"], audit["after"]["mean"]) == (41.25, 43.5)


class FailingAuditStore(Store):
    def append_audit(self, session: Any, entries: list[dict[str, Any]]) -> None:
        if any(e["action"] != "import.start" for e in entries):
            raise RuntimeError("audit write failed")
        super().append_audit(session, entries)


def test_a_failure_inside_the_unit_of_work_stores_nothing(service: Service) -> None:
    broken = MongoRepository(FailingAuditStore(service.store.client, service.store.db.name))
    ctx = cli.cli_context("ops")
    with pytest.raises(RuntimeError):
        handlers.import_results(io.BytesIO(FILE), "onet.csv", "csv", broken, ctx)
    assert (
        service.count("results"),
        service.count(OUTBOX),
        service.count(AUDIT, {"action": "result.record"}),
    ) == (0, 0, 0)
    assert service.store.db["imports"].find_one({})["status"] == "aborted"


def test_the_relay_publishes_to_achievement_events(service: Service) -> None:
    settings = service.settings
    ensure_topics(settings.kafka_bootstrap, [TOPIC], partitions=settings.topic_partitions)
    assert upload(service, FILE).status_code == 201
    assert upload(service, FILE.replace(b"41.25,30,20,10", b"43.5,31,20,11")).status_code == 201
    ids = {row["_id"] for row in service.store.db[OUTBOX].find()}
    assert len(ids) == 3

    stop = threading.Event()
    worker = threading.Thread(target=relay.serve, args=(settings, stop), daemon=True)
    worker.start()
    try:
        wait_until(lambda: service.count(OUTBOX, {"published_at": None}) == 0, timeout=30, what="the relay")
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()

    received = read_topic(settings, ids)
    assert {e["event_id"] for e in received} == ids
    assert {e["event_type"] for e in received} == {"achievement.ResultRecorded"}
    corrections = [e for e in received if e["payload"]["replaces"] is not None]
    assert [(e["aggregate_id"], e["payload"]["replaces"]) for e in corrections] == [
        (RESULT, {"mean": 41.25, "tested": 30})
    ]


def read_topic(settings: Settings, wanted: set[str], timeout: float = 30) -> list[dict[str, Any]]:
    """Our events on the topic, decoded through the catalog, from the beginning of every partition."""
    consumer = kafka_consumer(settings, group_id=None)
    found: dict[str, dict[str, Any]] = {}
    try:
        partitions = wait_until(lambda: consumer.partitions_for_topic(TOPIC), timeout, what="topic metadata")
        consumer.assign([TopicPartition(TOPIC, p) for p in partitions])
        consumer.seek_to_beginning()

        def poll() -> bool:
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    event = catalog.decode(record.value)
                    if event["event_id"] in wanted:
                        found[event["event_id"]] = event
            return set(found) >= wanted

        wait_until(poll, timeout, interval=0, what=f"{len(wanted)} events on {TOPIC}")
    finally:
        consumer.close()
    return list(found.values())


def seed_demo_schools(store: Store) -> list[str]:
    """Every demo directory school in the local copy (the directory sync's shape)."""
    codes = []
    for school in generator.read_schools():
        org = {
            "school_code": school.code,
            "cluster_id": None,
            "esa_code": school.esa_code,
            "province_code": school.code[:2],
        }
        store.db["schools"].update_one(
            {"_id": school.code}, {"$set": {"school_code": school.code, "org": org}}, upsert=True
        )
        codes.append(school.code)
    return codes


def test_the_cli_imports_a_generated_file_and_seeds_the_demo(service: Service, tmp_path: Path) -> None:
    seed_demo_schools(service.store)
    out = tmp_path / "results-2568.csv"
    console = Console(file=io.StringIO(), width=140)
    assert cli.main(["generate", str(out), "--year", "2568"], console=console) == 0
    rows = out.read_bytes().count(b"\n") - 1
    assert (
        cli.main(["import", str(out), "--as-user", "ops-1"], settings=service.settings, console=console) == 0
    )
    assert service.count("results") == rows == service.count(OUTBOX)
    assert service.count(AUDIT, {"actor": "ops-1", "action": "result.record"}) == rows
    assert cli.main(["import", str(out)], settings=service.settings, console=console) == 0
    assert service.count(OUTBOX) == rows  # unchanged: nothing written
    record = service.store.db["imports"].find_one({"actor": "system:achievement-cli"})
    assert (record["unchanged"], record["status"]) == (rows, "completed")

    # seed-demo: 2568 is already there (unchanged), 2567 is new; a second run writes nothing
    assert cli.main(["seed-demo", "--wait", "5"], settings=service.settings, console=console) == 0
    years = service.store.db["results"].distinct("academic_year")
    assert sorted(years) == [2567, 2568]
    total = service.count(OUTBOX)
    assert cli.main(["seed-demo", "--wait", "5"], settings=service.settings, console=console) == 0
    assert service.count(OUTBOX) == total
    assert service.store.db["results"].find_one({"_id": RESULT.replace("2568", "2567")}) is not None
    repo = MongoRepository(service.store)
    assert repo.get(Result, RESULT) is not None


def test_seed_demo_says_so_when_the_directory_copy_lacks_the_schools(service: Service) -> None:
    console = Console(file=io.StringIO(), width=200)
    assert cli.main(["seed-demo", "--wait", "0.5"], settings=service.settings, console=console) == 1
    assert "directory copy still lacks" in console.file.getvalue()
    assert service.count("results") == 0
