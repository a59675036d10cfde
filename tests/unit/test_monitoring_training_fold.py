"""The training part of the monitoring fold: distinct teachers, waitlists and the yearly PD-hours target."""

from __future__ import annotations

from typing import Any

from services.monitoring.figures import training_figures
from services.monitoring.folds.training import TEACHER_YEARS
from services.monitoring.projection import MonitoringProjection
from services.monitoring.views import unit_key, view_key
from shared.envelope import Org
from shared.projection import Change, merge_changes
from tests.eventfactory import PERIOD, event, school_org

HOST = Org(None, None, "13P1", "13")  # an ESA-hosted programme
SCHOOL_UNIT = {unit_key("school", "13010001"): {"code": "13010001", "org": school_org().as_dict()}}


def lookup_with(extra: dict[str, dict[str, Any]] | None = None) -> Any:
    def lookup(collection: str, keys: Any) -> dict[str, dict[str, Any]]:
        if collection == "units":
            return SCHOOL_UNIT
        return (extra or {}).get(collection, {})

    return lookup


def fold(events: list[dict[str, Any]], lookup: Any = None) -> dict[tuple[str, str], Change]:
    return merge_changes(MonitoringProjection().fold(events, lookup or lookup_with()))


def enrolment(programme: str, status: str = "enrolled", teacher: str = "T13010001-01") -> dict[str, Any]:
    return event(
        "training.EnrolmentCreated",
        {
            "programme_id": programme,
            "teacher_id": teacher,
            "school_code": "13010001",
            "mode": "online",
            "status": status,
            "period": PERIOD,
        },
        HOST,
    )


def completion(programme: str, hours: float, teacher: str = "T13010001-01") -> dict[str, Any]:
    return event(
        "training.CompletionAchieved",
        {
            "programme_id": programme,
            "teacher_id": teacher,
            "school_code": "13010001",
            "hours_credited": hours,
            "attendance_share": 0.9,
            "period": PERIOD,
        },
        HOST,
    )


def training(merged: dict[tuple[str, str], Change], level: str, code: str) -> dict[str, float]:
    inc = merged[("views", view_key(level, code, PERIOD))].inc
    return {k.removeprefix("training."): v for k, v in inc.items() if k.startswith("training.")}


def test_a_teacher_in_two_programmes_is_one_teacher_enrolled_at_their_school_path() -> None:
    merged = fold([enrolment("P1"), enrolment("P2")])
    for level, code in [
        ("school", "13010001"),
        ("cluster", "13P1-C01"),
        ("province", "13"),
        ("national", "TH"),
    ]:
        assert training(merged, level, code) == {
            "enrolments": 2,
            "enrolments_online": 2,
            "teachers_enrolled": 1,
        }


def test_waitlist_then_seat_offered_moves_the_teacher_to_enrolled() -> None:
    seat = event(
        "training.SeatOffered",
        {
            "programme_id": "P1",
            "teacher_id": "T13010001-01",
            "school_code": "13010001",
            "mode": "online",
            "period": PERIOD,
        },
        HOST,
    )
    merged = fold([enrolment("P1", status="waitlisted"), seat])
    assert training(merged, "esa", "13P1") == {
        "waitlisted": 0,
        "enrolments": 1,
        "enrolments_online": 1,
        "teachers_enrolled": 1,
    }


def test_completions_credit_hours_and_cross_the_yearly_target_once() -> None:
    merged = fold([completion("P1", 12), completion("P2", 12), completion("P3", 6)])
    school = training(merged, "school", "13010001")
    assert school["pd_hours"] == 30 and school["completions"] == 3
    assert school["teachers_completed"] == 1
    assert school["teachers_meeting_target"] == 1  # 12 → 24 crosses 20 once; 30 does not cross again
    assert merged[(TEACHER_YEARS, "T13010001-01:2569")].inc == {"hours": 30}


def test_hours_already_earned_this_year_count_toward_the_target() -> None:
    stored = {TEACHER_YEARS: {"T13010001-01:2569": {"hours": 18}}}
    merged = fold([completion("P1", 3)], lookup_with(stored))
    assert training(merged, "national", "TH")["teachers_meeting_target"] == 1
    already = {TEACHER_YEARS: {"T13010001-01:2569": {"hours": 21}}}
    assert "teachers_meeting_target" not in training(
        fold([completion("P1", 3)], lookup_with(already)), "national", "TH"
    )


def test_training_figures() -> None:
    view = {
        "training": {
            "sessions_scheduled": 5,
            "sessions_cancelled": 1,
            "teachers_enrolled": 8,
            "teachers_completed": 6,
            "pd_hours": 90,
            "teachers_meeting_target": 2,
        }
    }
    semester_one = {"training": {"teachers_meeting_target": 3, "pd_hours": 30}}
    figures = training_figures(view, teachers_total=10, earlier_this_year=semester_one)
    assert figures["completion_rate"] == 0.75
    assert figures["sessions_held"] == 4
    assert figures["pd_hours_per_teacher"] == 9.0
    assert figures["teachers_meeting_pd_target"] == 5 and figures["share_meeting_pd_target"] == 0.5
    assert figures["pd_hours_year"] == 120 and figures["pd_hours_year_per_teacher"] == 12.0
    assert training_figures(None, 0, None)["completion_rate"] is None
