"""A school's activity list, folded from events without servers: titles, keys, org paths, no names."""

from __future__ import annotations

from typing import Any

from pymongo import InsertOne, UpdateOne

from services.monitoring.folds.activity import ACTIVITY, DESCRIBE, PROGRAMMES
from services.monitoring.projection import MonitoringProjection
from services.monitoring.views import unit_key
from shared.catalog import catalog
from shared.envelope import Org
from shared.projection import Change, merge_changes
from tests.eventfactory import (
    NETWORK,
    PERIOD,
    attendance,
    committee_org,
    event,
    meeting_held,
    school_org,
    visit_completed,
)

HOST = Org(None, "13P1-C01", "13P1", "13")  # a training programme's host: a cluster, no school


def fold(events: list[dict[str, Any]], docs: dict[str, dict[str, Any]] | None = None) -> dict[str, Change]:
    stored = docs or {}

    def lookup(collection: str, keys: Any) -> dict[str, dict[str, Any]]:
        return {k: stored[k] for k in keys if k in stored and collection in (ACTIVITY, PROGRAMMES, "units")}

    merged = merge_changes(MonitoringProjection().fold(events, lookup))
    return {key: change for (collection, key), change in merged.items() if collection == ACTIVITY}


def programme_created() -> dict[str, Any]:
    payload = {
        "programme_id": "P1",
        "title_th": "การออกแบบการเรียนรู้",
        "title_en": "Learning design",
        "competency_area": "pedagogy",
        "host_level": "cluster",
        "host_code": "13P1-C01",
        "credited_hours": 12,
        "period": PERIOD,
    }
    return event("training.ProgrammeCreated", payload, HOST, "P1")


def enrolment(teacher: str = "T-SOMCHAI", status: str = "enrolled") -> dict[str, Any]:
    payload = {
        "programme_id": "P1",
        "teacher_id": teacher,
        "school_code": "13010001",
        "mode": "online",
        "status": status,
        "period": PERIOD,
    }
    return event("training.EnrolmentCreated", payload, HOST, "P1")


def test_a_completed_visit_is_one_document_keyed_by_its_event() -> None:
    visit = visit_completed()
    docs = fold([visit])
    assert list(docs) == [visit["event_id"]]
    doc = docs[visit["event_id"]].set
    assert doc["org"] == school_org().as_dict() and doc["at"] == "2026-11-20"
    assert (doc["model"], doc["kind"]) == ("supervision", "supervision.VisitCompleted")
    assert doc["title_en"] == "Supervision visit (on site): 1 teachers observed"
    assert "สังเกตการสอนครู 1 คน" in doc["title_th"]
    assert (doc["status_th"], doc["status_en"]) == ("เสร็จสิ้น", "Completed")


def test_a_duplicate_event_sets_the_same_values() -> None:
    visit = visit_completed()
    docs = fold([visit, visit])
    assert list(docs) == [visit["event_id"]] and docs[visit["event_id"]].inc == {}


def test_a_new_entry_is_inserted_whole_and_one_kept_already_is_set_again() -> None:
    visit = visit_completed()
    new = fold([visit])[visit["event_id"]]
    assert new.new and new.as_write() == InsertOne({"_id": visit["event_id"], **new.set})
    # kept already: the event was applied again after its applied record expired, and an insert would fail
    kept = fold([visit], {visit["event_id"]: {"_id": visit["event_id"]}})[visit["event_id"]]
    assert not kept.new
    assert kept.as_write() == UpdateOne({"_id": visit["event_id"]}, kept.as_update(), upsert=True)


def test_training_titles_name_the_programme_and_the_school_path_never_the_teacher() -> None:
    stored = {unit_key("school", "13010001"): {"org": school_org().as_dict()}}
    docs = fold([programme_created(), enrolment(), enrolment("T-2", "waitlisted")], stored)
    sets = [c.set for c in docs.values()]
    assert [s["title_en"] for s in sets] == ["A teacher enrolled in “Learning design” (online)"] * 2
    assert [s["status_en"] for s in sets] == ["Enrolled", "Waitlisted"]
    assert all(s["org"] == school_org().as_dict() for s in sets)  # the school's path, not the host's
    assert not any("SOMCHAI" in s["title_en"] + s["title_th"] for s in sets)


def test_an_unknown_programme_is_named_by_its_id() -> None:
    (doc,) = fold([enrolment()]).values()
    assert doc.set["title_en"] == "A teacher enrolled in “P1” (online)"
    assert doc.set["org"] == {"school_code": "13010001"}  # the school is not in the directory yet


def test_a_plc_session_is_listed_for_each_school_it_names() -> None:
    payload = {
        "session_id": "PLC1",
        "cluster_id": "13P1-C01",
        "school_codes": ["13010001", "13010002"],
        "session_date": "2026-11-25",
        "topic": "Reading with Khru Somchai",
        "teacher_count": 7,
        "period": PERIOD,
    }
    plc = event("supervision.PlcSessionRecorded", payload, HOST, "PLC1")
    docs = fold([plc])
    assert set(docs) == {f"{plc['event_id']}:13010001", f"{plc['event_id']}:13010002"}
    assert {d.set["org"]["school_code"] for d in docs.values()} == {"13010001", "13010002"}
    title = next(iter(docs.values())).set["title_en"]
    assert title == "Network PLC session (13P1-C01): 7 teachers" and "Somchai" not in title


def test_a_board_meeting_counts_who_came_and_a_network_meeting_is_no_schools() -> None:
    rows = attendance(parent=(2, 1, 0), teacher=(3, 0, 1))
    board = meeting_held("CM1", "M1", rows=rows)
    network = meeting_held("NC1", "M2", NETWORK, rows=rows, org=committee_org(NETWORK))
    docs = fold([board, network])
    assert list(docs) == [board["event_id"]]
    doc = docs[board["event_id"]].set
    assert doc["title_en"] == "Board meeting held: 5 of 7 members present" and doc["model"] == "committee"
    assert doc["status_en"] == "Quorum reached"


def test_every_described_event_type_is_in_the_catalog() -> None:
    assert set(DESCRIBE) <= {event_type for event_type, _ in catalog.event_types()}
