"""The local copy of master data: folding directory events into upserts (no servers)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from shared.catalog import catalog
from shared.directory_copy import DirectoryCopy
from shared.envelope import Org, new_event
from shared.projection import merge_changes
from tests.eventfactory import visit_completed

ORG = Org("13010001", "13P1-C01", "13P1", "13")


def school(version: int, name: str = "โรงเรียนบ้านบางกะดี", org: Org = ORG) -> dict[str, Any]:
    payload = {
        "school_code": org.school_code,
        "name_th": name,
        "name_en": "Ban Bang Kadi School",
        "esa_code": org.esa_code,
        "cluster_id": org.cluster_id,
        "province_code": org.province_code,
        "amphoe": "เมืองปทุมธานี",
        "size_category": "medium",
        "students": 342,
        "teachers": 18,
        "effective_from": "2024-05-16",
    }
    return decoded("directory.SchoolRecorded", payload, org, org.school_code or "", version)


def decoded(event_type: str, payload: dict[str, Any], org: Org, key: str, version: int) -> dict[str, Any]:
    raw = new_event(
        event_type=event_type,
        event_version=1,
        producer="directory",
        aggregate_id=key,
        aggregate_version=version,
        org=org,
        payload=payload,
        actor="import",
    )
    return catalog.decode(catalog.serialize(raw))  # as a consumer sees it after the wire


def no_docs(collection: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    return {}


def test_a_school_event_becomes_an_upsert_of_its_full_state_with_org() -> None:
    event = school(1)
    [change] = DirectoryCopy().fold([event], no_docs)
    assert (change.collection, change.key) == ("schools", "13010001")
    assert change.set["org"] == ORG.as_dict()
    assert change.set["effective_from"] == "2024-05-16"  # BSON has no date: kept as the ISO string
    assert (change.set["name_th"], change.set["students"], change.set["version"]) == (
        "โรงเรียนบ้านบางกะดี",
        342,
        1,
    )
    assert change.set["updated_at"] == event["occurred_at"]
    assert not isinstance(change.set["effective_from"], date)


def test_each_kind_goes_to_its_collection() -> None:
    events = [
        decoded(
            "directory.EsaAreaRecorded",
            {
                "esa_code": "13P1",
                "name_th": "สพป.ปทุมธานี เขต 1",
                "name_en": "Pathum Thani Primary ESA 1",
                "level": "primary",
                "province_code": "13",
                "effective_from": "2010-08-23",
            },
            Org(None, None, "13P1", "13"),
            "13P1",
            1,
        ),
        decoded(
            "directory.ClusterRecorded",
            {
                "cluster_id": "13P1-C01",
                "name_th": "กลุ่มเครือข่าย",
                "name_en": "Network",
                "esa_code": "13P1",
                "province_code": "13",
                "models": ["supervision", "training"],
                "effective_from": "2024-05-16",
            },
            Org(None, "13P1-C01", "13P1", "13"),
            "13P1-C01",
            1,
        ),
        decoded(
            "directory.TeacherRecorded",
            {
                "teacher_id": "T13010001-01",
                "school_code": "13010001",
                "name_th": "ครูมาลี ศรีสุข",
                "effective_from": "2024-05-16",
            },
            ORG,
            "T13010001-01",
            1,
        ),
    ]
    changes = DirectoryCopy().fold(events, no_docs)
    assert [(c.collection, c.key) for c in changes] == [
        ("esa_areas", "13P1"),
        ("clusters", "13P1-C01"),
        ("teachers", "T13010001-01"),
    ]
    assert changes[1].set["models"] == ["supervision", "training"]
    assert changes[2].set["org"]["school_code"] == "13010001"


def test_other_events_are_ignored() -> None:
    assert DirectoryCopy().fold([visit_completed()], no_docs) == []


def test_the_highest_version_wins_whatever_the_arrival_order() -> None:
    moved = Org("13010001", "13P1-C02", "13P1", "13")
    events = [school(3, "ใหม่", moved), school(2, "เก่า")]  # an older state arrived later
    changes = merge_changes(DirectoryCopy().fold(events, no_docs))
    assert [(c.set["name_th"], c.set["version"], c.set["org"]["cluster_id"]) for c in changes.values()] == [
        ("ใหม่", 3, "13P1-C02")
    ]


def test_a_state_older_than_the_stored_copy_changes_nothing() -> None:
    def stored(collection: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {"13010001": {"_id": "13010001", "version": 3}} if collection == "schools" else {}

    assert DirectoryCopy().fold([school(2)], stored) == []
    assert [c.set["version"] for c in DirectoryCopy().fold([school(4)], stored)] == [4]
