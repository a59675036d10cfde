"""The event catalog: validation, dead-letter reasons and upcasting."""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import pytest
from marshmallow import fields

from services.monitoring.projection import MonitoringProjection
from services.supervision.events import CoachingSessionRecorded, VisitCancelled
from shared.calendar import Period
from shared.catalog import Catalog, InvalidEvent, catalog
from shared.catalog.common import Payload
from shared.envelope import Org, new_event
from shared.repository import envelopes
from tests.eventfactory import visit_completed, wire


def test_round_trip_keeps_payload_json_native() -> None:
    event = visit_completed()
    assert event["payload"]["visit_date"] == "2026-11-20"
    assert isinstance(event["event_id"], str)


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[]", json.dumps({"event_type": "x"}).encode()],
)
def test_unreadable_events_are_invalid(raw: bytes) -> None:
    with pytest.raises(InvalidEvent):
        catalog.decode(raw)


def test_payload_breaking_its_contract_is_invalid() -> None:
    good = json.loads(
        wire(
            "supervision.VisitCancelled",
            {
                "visit_id": "V1",
                "school_code": "13010001",
                "reason": "",
                "period": {"academic_year": 2569, "semester": 2},
            },
            Org("13010001", None, "13P1", "13"),
        )
    )
    good["payload"]["period"]["semester"] = 3
    with pytest.raises(InvalidEvent) as err:
        catalog.decode(json.dumps(good).encode())
    assert "period" in str(err.value.details)


def test_unknown_event_type_is_invalid() -> None:
    raw = json.loads(
        wire(
            "supervision.VisitCancelled",
            {"visit_id": "V1", "school_code": "1", "period": {"academic_year": 2569, "semester": 1}},
            Org("1", None, "13P1", "13"),
        )
    )
    raw["event_type"] = "supervision.Unheard"
    with pytest.raises(InvalidEvent):
        catalog.decode(json.dumps(raw).encode())


def test_old_versions_are_upcast_on_read() -> None:
    local = Catalog()

    class V1(Payload):
        score = fields.Integer(required=True)

    class V2(Payload):
        score = fields.Float(required=True)
        scale = fields.Integer(required=True)

    local.register("test.Scored", 1, V1)
    local.register("test.Scored", 2, V2)

    @local.upcaster("test.Scored", 1)
    def add_scale(payload: dict) -> dict:
        return {**payload, "scale": 4}

    event = new_event(
        event_type="test.Scored",
        event_version=1,
        producer="t",
        aggregate_id="a",
        aggregate_version=1,
        org=Org(None, None, None, None),
        payload={"score": 3},
        actor="t",
    )
    decoded = local.decode(local.serialize(event))
    assert decoded["event_version"] == 2
    assert decoded["payload"] == {"score": 3, "scale": 4}


def test_outgoing_event_is_checked_before_it_is_stored() -> None:
    event = new_event(
        event_type="supervision.VisitCancelled",
        event_version=1,
        producer="supervision",
        aggregate_id="V1",
        aggregate_version=1,
        org=Org("1", None, "13P1", "13"),
        payload={"visit_id": "V1"},
        actor="t",
    )
    with pytest.raises(InvalidEvent):
        catalog.check(event)


# --- supervision.CoachingSessionRecorded: v1 `minutes` became v2 `duration_minutes` -------------------------

COACHING = {
    "session_id": "coach-1",
    "kind": "mentoring",
    "school_code": "13010001",
    "session_date": "2026-11-20",
    "teacher_ids": ["T13010001-01", "T13010001-02"],
    "period": {"academic_year": 2569, "semester": 2},
}


def coaching_wire(version: int, payload: dict) -> bytes:
    event = new_event(
        event_type="supervision.CoachingSessionRecorded",
        event_version=version,
        producer="supervision",
        aggregate_id="coach-1",
        aggregate_version=1,
        org=Org("13010001", "13P1-C01", "13P1", "13"),
        payload=payload,
        actor="t",
    )
    return catalog.serialize(event)


def test_coaching_is_at_v2_and_a_v1_event_is_upcast_on_read() -> None:
    assert catalog.latest_version("supervision.CoachingSessionRecorded") == 2
    decoded = catalog.decode(coaching_wire(1, {**COACHING, "minutes": 45}))
    assert decoded["event_version"] == 2
    assert decoded["payload"] == {**COACHING, "duration_minutes": 45}


def test_a_v2_coaching_event_reads_as_it_is_and_a_v1_payload_is_not_v2() -> None:
    assert (
        catalog.decode(coaching_wire(2, {**COACHING, "duration_minutes": 45}))["payload"]["duration_minutes"]
        == 45
    )
    with pytest.raises(InvalidEvent):
        catalog.decode(coaching_wire(2, {**COACHING, "minutes": 45}))
    with pytest.raises(InvalidEvent):  # and a v1 without its minutes is refused before upcasting
        catalog.decode(coaching_wire(1, COACHING))


def test_v1_and_v2_of_the_same_session_fold_to_the_same_changes() -> None:
    def folded(raw: bytes) -> tuple[list, list]:
        changes = MonitoringProjection().fold([catalog.decode(raw)], lambda c, k: {})
        views = [(c.key, c.inc) for c in changes if c.collection == "views"]
        titles = [c.set["title_en"] for c in changes if c.collection == "activity"]
        return views, titles

    v1 = folded(coaching_wire(1, {**COACHING, "minutes": 45}))
    assert v1 == folded(coaching_wire(2, {**COACHING, "duration_minutes": 45}))
    views, titles = v1
    assert dict(views)["national:TH:2569-2"] == {
        "supervision.mentoring_sessions": 1,
        "supervision.mentoring_minutes": 45,
    }
    assert titles == ["Mentoring session: 2 teachers, 45 minutes"]


def test_the_supervision_service_emits_coaching_as_v2_and_its_other_events_as_v1() -> None:
    period = Period(2569, 2)
    session = CoachingSessionRecorded(
        "coach-1", "coaching", "13010001", date(2026, 11, 20), ["T1"], 30, period
    )
    cancelled = VisitCancelled("V1", "13010001", "", period)
    entity = SimpleNamespace(id="coach-1", version=1, org=Org("13010001", "13P1-C01", "13P1", "13"))
    stamped = envelopes(entity, [session, cancelled], "supervision", 1, "t", None)
    assert [e["event_version"] for e in stamped] == [2, 1]
    assert stamped[0]["payload"]["duration_minutes"] == 30 and "minutes" not in stamped[0]["payload"]
    for event in stamped:
        catalog.check(event)
