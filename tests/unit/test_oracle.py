"""The reliability tests' oracle (tests/oracle.py) on a hand-counted log: it must count right, and catch a wrong view."""

from __future__ import annotations

from shared.catalog import catalog
from shared.envelope import Org, new_event
from tests.eventfactory import PERIOD, wire
from tests.oracle import Directory, differences, from_events

DIRECTORY = Directory(
    schools={
        "13010001": {"cluster_id": "13P1-C01", "esa_code": "13P1", "province_code": "13"},
        "13010002": {"cluster_id": "13P1-C01", "esa_code": "13P1", "province_code": "13"},
    },
    clusters={"13P1-C01": {"esa_code": "13P1", "province_code": "13"}},
)
ORG = Org("13010001", "13P1-C01", "13P1", "13")


def completed(visit_id: str, score: int, mode: str = "onsite") -> bytes:
    payload = {
        "visit_id": visit_id,
        "school_code": "13010001",
        "visit_date": "2026-11-20",
        "mode": mode,
        "rubric_scores": {"assessment": score},
        "teachers_observed": ["T1", "T2"],
        "period": PERIOD,
    }
    return wire("supervision.VisitCompleted", payload, ORG, visit_id)


def coaching(version: int, minutes: int) -> bytes:
    payload = {
        "session_id": f"C{version}",
        "kind": "coaching",
        "school_code": "13010001",
        "session_date": "2026-11-20",
        "teacher_ids": ["T1"],
        "period": PERIOD,
        ("minutes" if version == 1 else "duration_minutes"): minutes,
    }
    event = new_event(
        event_type="supervision.CoachingSessionRecorded",
        event_version=version,
        producer="supervision",
        aggregate_id=f"C{version}",
        aggregate_version=1,
        org=ORG,
        payload=payload,
        actor="t",
    )
    return catalog.serialize(event)


def test_the_oracle_counts_each_event_once_and_rolls_it_up() -> None:
    first = completed("V1", 3)
    log = [first, first, completed("V2", 2, "online"), coaching(1, 30), coaching(2, 45)]
    figures = from_events(log, DIRECTORY)
    school = {
        "visits_done": 2,
        "visits_onsite": 1,
        "visits_online": 1,
        "teachers_observed": 4,
        "rubric.assessment.sum": 5,
        "rubric.assessment.count": 2,
        "last_visit_date": "2026-11-20",
        "schools_visited": 1,
        "coaching_sessions": 2,
        "coaching_minutes": 75,
    }
    assert figures[("school", "13010001", 2569, 2)] == school
    for unit in (("cluster", "13P1-C01"), ("esa", "13P1"), ("province", "13"), ("national", "TH")):
        assert figures[(*unit, 2569, 2)] == school
    assert len(figures) == 5


def test_a_view_that_differs_by_one_count_or_is_missing_is_reported() -> None:
    expected = from_events([completed("V1", 3)], DIRECTORY)
    live = {view: dict(row) for view, row in expected.items()}
    assert differences(expected, live) == []
    live[("esa", "13P1", 2569, 2)]["visits_done"] = 2
    del live[("national", "TH", 2569, 2)]
    wrong = differences(expected, live)
    assert len(wrong) == 2 and "('esa', '13P1', 2569, 2)" in wrong[0]


def test_zero_counters_are_absent_on_both_sides() -> None:
    expected = from_events([completed("V1", 3)], DIRECTORY)
    live = {view: {**row, "follow_ups_open": 0} for view, row in expected.items()}
    assert differences(expected, live) == []
