"""The event catalog: validation, dead-letter reasons and upcasting."""

from __future__ import annotations

import json

import pytest
from marshmallow import fields

from shared.catalog import Catalog, InvalidEvent, catalog
from shared.catalog.common import Payload
from shared.envelope import Org, new_event
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
