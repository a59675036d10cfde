"""The attendance-report import and certificates against the real local document store: one write per
changed teacher (entity + outbox + audit), a re-import writes nothing, and a certificate's code is unique
and verifiable without a token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymongo.errors import DuplicateKeyError

from services.training.app import create_app
from shared.clients import mongo_client
from shared.settings import Settings
from shared.store import AUDIT, OUTBOX, Store
from tests.integration.test_training import Service, seed_directory

pytestmark = pytest.mark.integration

NAMES = {
    "T13010001-01": ("ครูสมชาย ใจดี", "Somchai Jaidee"),
    "T13010001-02": ("ครูสมศรี มีสุข", "Somsri Meesuk"),
    "T13010002-01": ("ครูวิชัย เก่งกล้า", "Wichai Kengkla"),
}
REPORT = (
    "\ufeffName,Email,Join time,Leave time,Duration (minutes)\n"
    "Somchai Jaidee,T13010001-01@school.example.org,2026-11-20 09:00:00,2026-11-20 10:00:00,60\n"
    "Somchai Jaidee,t13010001-01@school.example.org,2026-11-20 09:45:00,2026-11-20 11:30:00,105\n"
    "สมศรี มีสุข,,2026-11-20 09:10:00,2026-11-20 10:10:00,60\n"
    "Guest,guest@example.com,2026-11-20 09:00:00,2026-11-20 09:05:00,5\n"
    "Late,,2026-11-20 11:00:00,2026-11-20 10:00:00,\n"
).encode()


@pytest.fixture
def service(settings: Settings, unique: str) -> Iterator[Service]:
    own = settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}")
    client = mongo_client(own)
    store = Store(client, own.db_name("training"))
    seed_directory(store)
    for teacher_id, (name_th, name_en) in NAMES.items():
        email = f"{teacher_id.lower()}@school.example.org"
        store.db["teachers"].update_one(
            {"_id": teacher_id}, {"$set": {"name_th": name_th, "name_en": name_en, "email": email}}
        )
    app = create_app(own)
    try:
        with app.test_client() as test_client:
            yield Service(own, test_client, store)
    finally:
        resources = app.extensions["anp"]
        if "mongo" in resources.__dict__:
            resources.mongo.close()
        client.close()


def test_an_imported_report_is_stored_once_and_a_certificate_verifies(service: Service) -> None:
    programme = service.running()  # a hybrid session, 09:00-12:00
    officer = service.auth()
    for teacher_id in ("T13010001-01", "T13010001-02"):
        assert service.enrol(programme["id"], teacher_id, officer, mode="online").status_code == 201
    session_id = programme["sessions"][0]["id"]
    url = f"/api/v1/programmes/{programme['id']}/sessions/{session_id}/attendance-report"

    def upload() -> dict:
        response = service.client.post(
            url,
            data=REPORT,
            headers=officer,
            content_type="text/csv",
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    body = upload()
    assert [(t["teacher_id"], t["minutes"], t["lines"]) for t in body["teachers"]] == [
        ("T13010001-01", 150, [2, 3]),  # 09:00-11:30, the overlap counted once
        ("T13010001-02", 60, [4]),  # by name, without the title
    ]
    assert ([u["line"] for u in body["unmatched"]], [i["line"] for i in body["invalid"]]) == ([5], [6])
    stored = service.store.db["attendance"].find_one({"teacher_id": "T13010001-01"})
    assert (stored["minutes_by_mode"], stored["version"]) == ({"online": 150}, 1)
    recorded = {"event.event_type": "training.AttendanceRecorded"}
    assert service.count(OUTBOX, recorded) == 2
    assert service.count(AUDIT, {"action": "attendance.record"}) == 2

    outbox, audit = service.count(OUTBOX), service.count(AUDIT)
    again = upload()
    assert (again["recorded"], again["unchanged"]) == (0, 2)
    assert (service.count(OUTBOX), service.count(AUDIT)) == (outbox, audit)

    # an Idempotency-Key replays the first answer of an upload, too
    keyed = {**officer, "Idempotency-Key": "zoom-2026-11-20"}
    replies = [
        service.client.post(
            url,
            data=REPORT,
            headers=keyed,
            content_type="text/csv",
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in replies] == [201, 201]
    assert replies[1].headers.get("Idempotent-Replay") == "true"
    assert replies[1].get_json() == replies[0].get_json()
    assert (service.count(OUTBOX), service.count(AUDIT)) == (outbox, audit)
    assert service.store.db["attendance"].find_one({"teacher_id": "T13010001-01"})["version"] == 1

    # T13010001-01 attended 150 of 180 minutes (0.83 >= 0.8): credited, with a certificate
    done = service.client.post(
        f"/api/v1/programmes/{programme['id']}/completions",
        json={"teacher_id": "T13010001-01"},
        headers=officer,
    )
    assert done.status_code == 201, done.get_json()
    code = done.get_json()["certificate_code"]
    verified = service.client.get(f"/api/v1/certificates/verify/{code}")
    assert verified.status_code == 200
    assert verified.get_json()["name"] == "ครูสมชาย ใจดี"
    other = code[:-1] + ("B" if code[-1] != "B" else "C")
    assert service.client.get(f"/api/v1/certificates/verify/{other}").status_code == 404
    pdf = service.client.get(f"/api/v1/completions/{done.get_json()['id']}/certificate.pdf", headers=officer)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    # the unique index: no second completion may carry the same code
    twin = {**service.store.db["completions"].find_one({"certificate_code": code}), "_id": "cmp-twin"}
    twin["teacher_id"] = "T13010001-02"
    with pytest.raises(DuplicateKeyError):
        service.store.db["completions"].insert_one(twin)
    # completions from before certificates (no code) do not collide with each other
    for n in (1, 2):
        legacy = {**twin, "_id": f"cmp-legacy-{n}", "teacher_id": f"T-legacy-{n}", "certificate_code": ""}
        service.store.db["completions"].insert_one(legacy)
    assert service.count("completions", {"certificate_code": ""}) == 2
