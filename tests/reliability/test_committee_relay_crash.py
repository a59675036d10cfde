"""The committee service's relay crashes after the broker took its batches and before it marked them, so the whole
outbox goes out a second time. The views of the whole committee model (boards and network committees, members,
meetings held and cancelled, attendance, minutes, resolutions, action items open, overdue and done) equal
tests/oracle.py's recomputation from the committee service's own database.

The service runs in process (its Flask app) on the session's store; its outbox goes to a topic of the test's own,
with the relay's code, twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from services.committee import handlers
from services.committee.app import create_app
from services.committee.repository import MongoRepository
from shared.auth import issue_token
from shared.clients import mongo_client
from shared.settings import Settings
from shared.store import OUTBOX, Store
from tests.integration.test_committee import BOARD, TERM, TODAY, seed_directory
from tests.oracle import Directory, assert_views_match, from_committee_db, live
from tests.reliability.pipeline import dead_letters, outbox_to_own_topic, project, publish_outbox

pytestmark = pytest.mark.integration

NETWORK = {
    "kind": "network",
    "name_th": "คณะกรรมการเครือข่าย",
    "cluster_id": "13P1-C01",
    "seats": 5,
    "established_date": TERM["term_start"],
}


class Committees:
    def __init__(self, client: FlaskClient, settings: Settings) -> None:
        self.client = client
        jwt = issue_token(settings, sub="admin", role="admin", scope_level="national", scope_code=None)
        self.headers = {"Authorization": f"Bearer {jwt}"}

    def post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(f"/api/v1{url}", json=body, headers=self.headers)
        assert response.status_code == 201, f"POST {url}: {response.status_code} {response.get_json()}"
        return dict(response.get_json())

    def committee(self, body: dict[str, Any], groups: list[str]) -> dict[str, Any]:
        committee = self.post("/committees", body)
        for n, group in enumerate(groups):
            role = "chair" if n == 0 else "member"
            committee = self.post(
                f"/committees/{committee['id']}/members",
                {"name": f"กรรมการ {n}", "stakeholder_group": group, "role": role, **TERM},
            )
        return committee

    def held(self, committee: dict[str, Any], day: str, absent: int = 0, minutes: str = "") -> dict[str, Any]:
        meeting = self.post(
            f"/committees/{committee['id']}/meetings", {"meeting_date": day, "agenda": ["วาระ"]}
        )
        members = [m for m in committee["members"] if m["term_start"] <= day <= m["term_end"]]
        attendance = {m["id"]: "absent" if n < absent else "present" for n, m in enumerate(members)}
        body: dict[str, Any] = {"attendance": attendance, **({"minutes": minutes} if minutes else {})}
        return self.post(f"/meetings/{meeting['id']}/hold", body)


@pytest.fixture
def committees(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Committees, Store, Settings]]:
    monkeypatch.setattr(handlers, "today", lambda: TODAY)
    own = settings.with_overrides(db_prefix=f"{settings.db_prefix}_c{uuid.uuid4().hex[:8]}")
    client = mongo_client(own)
    store = Store(client, own.db_name("committee"))
    seed_directory(store)
    app = create_app(own)
    try:
        with app.test_client() as test_client:
            yield Committees(test_client, own), store, own
    finally:
        resources = app.extensions["anp"]
        if "mongo" in resources.__dict__:
            resources.mongo.close()
        client.close()


def committee_life(api: Committees, store: Store) -> None:
    """Two committees through most of what the API offers, over two semesters."""
    board = api.committee(BOARD, ["parent", "teacher", "alumni", "community_leader", "religious_leader"])
    network = api.committee(NETWORK, ["school_director", "local_government", "parent"])
    api.post(
        f"/committees/{board['id']}/members/{board['members'][4]['id']}/end-term", {"end_date": "2026-06-30"}
    )
    board = api.client.get(f"/api/v1/committees/{board['id']}", headers=api.headers).get_json()
    held = api.held(board, "2026-11-10", absent=1, minutes="รับทราบ")
    api.held(board, "2026-06-15", absent=3)  # no quorum
    api.held(network, "2026-11-12")
    cancelled = api.post(
        f"/committees/{board['id']}/meetings", {"meeting_date": "2026-11-30", "agenda": ["วาระ"]}
    )
    api.post(f"/meetings/{cancelled['id']}/cancel", {"reason": "ฝนตก"})
    api.post(f"/committees/{board['id']}/meetings", {"meeting_date": "2026-12-15", "agenda": ["วาระ"]})
    resolution = api.post(f"/meetings/{held['id']}/resolutions", {"title": "มติ", "text": "ข้อความ"})
    school = {"kind": "school", "id": "13010001"}
    items = [
        api.post(
            f"/resolutions/{resolution['id']}/action-items",
            {"description": f"งาน {n}", "owner": school, "due_date": due},
        )
        for n, due in enumerate(("2026-11-20", "2026-11-21", "2026-12-31", "2027-01-31"))
    ]
    api.post(f"/action-items/{items[2]['id']}/notes", {"note": "เริ่มแล้ว", "percent_done": 30})
    api.post(f"/action-items/{items[2]['id']}/notes", {"note": "ครึ่งทาง", "percent_done": 50})
    api.post(f"/action-items/{items[2]['id']}/complete", {"completed_date": "2026-11-22"})
    handlers.mark_overdue_action_items(TODAY, MongoRepository(store))  # items 0 and 1: past due
    api.post(f"/action-items/{items[1]['id']}/complete", {"completed_date": "2026-11-23"})  # done late


def test_a_relay_crash_before_marking_changes_no_committee_view(
    committees: tuple[Committees, Store, Settings],
) -> None:
    api, store, own = committees
    committee_life(api, store)
    unique = own.db_prefix.rsplit("_", 1)[-1]
    events = store.db[OUTBOX].count_documents({})
    topic = outbox_to_own_topic(own, store, unique, "committee")
    # the crash: the broker has every event, and the outbox marks none of them
    store.db[OUTBOX].update_many({}, {"$set": {"published_at": None}})
    publish_outbox(own, store)

    views = Store(store.client, own.db_name("monitoring"))
    counts = project(own, [topic], f"{unique}-views", views)
    compared = assert_views_match(
        from_committee_db(store.db, Directory.from_db(store.db)), views.db, "committee"
    )
    dead = dead_letters(own, [topic])
    print(
        f"events {events}, kills 1 (the relay, after publishing and before marking), records {counts.records}, "
        f"duplicates {counts.duplicates}, DLQ entries {dead}; oracle: {compared} committee views equal to the "
        f"recomputation from the committee database"
    )
    assert counts.records == 2 * events and counts.applied == events and counts.duplicates == events
    national = live(views.db, "committee")[("national", "TH", 2569, 2)]  # the life above, counted by hand
    assert {k: v for k, v in national.items() if k.startswith(("meetings", "action", "resolutions"))} == {
        "meetings_scheduled": 4,
        "meetings_held": 2,
        "meetings_with_quorum": 2,
        "meetings_cancelled": 1,
        "resolutions_adopted": 1,
        "action_items_created": 4,
        "action_items_open": 2,
        "action_items_overdue": 1,
        "action_items_done": 2,
        "action_item_progress_notes": 2,
    }
    assert dead == 0
