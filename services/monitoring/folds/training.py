"""Hybrid-training events become counters in the `training` section of the views.

Distinct teachers (enrolled, completed) and the yearly PD-hours target are first-time transitions, decided
from small per-teacher documents read once per batch. Enrolment events carry the programme host's org, so
each teacher's school path comes from the directory units.
"""

from __future__ import annotations

from typing import Any

from services.monitoring.views import UNITS, Event, ViewBatch, unit_key
from shared.targets import pd_hours_target

SECTION = "training"
TEACHER_PERIODS = "teacher_periods"  # per teacher and semester: enrolled / completed yet?
TEACHER_YEARS = "teacher_years"  # per teacher and academic year: PD hours credited so far

PER_TEACHER = ("training.EnrolmentCreated", "training.SeatOffered", "training.CompletionAchieved")
AT_SCHOOL = (*PER_TEACHER, "training.EnrolmentWithdrawn", "training.AttendanceRecorded")


def _period_key(p: dict[str, Any]) -> str:
    return f"{p['teacher_id']}:{p['period']['academic_year']}-{p['period']['semester']}"


def _year_key(p: dict[str, Any]) -> str:
    return f"{p['teacher_id']}:{p['period']['academic_year']}"


def preload(events: list[Event]) -> dict[str, list[str]]:
    payloads = [e["payload"] for e in events if e["event_type"] in AT_SCHOOL]
    per_teacher = [e["payload"] for e in events if e["event_type"] in PER_TEACHER]
    completions = [e["payload"] for e in events if e["event_type"] == "training.CompletionAchieved"]
    return {
        UNITS: [unit_key("school", p["school_code"]) for p in payloads],
        TEACHER_PERIODS: [_period_key(p) for p in per_teacher],
        TEACHER_YEARS: [_year_key(p) for p in completions],
    }


def _first(batch: ViewBatch, p: dict[str, Any], flag: str) -> bool:
    """True the first time a teacher is `flag` (enrolled, completed) in a semester; records it."""
    key = _period_key(p)
    state = dict(batch.doc(TEACHER_PERIODS, key) or {})
    if state.get(flag):
        return False
    state[flag] = True
    batch.remember(TEACHER_PERIODS, key, state)
    batch.change(TEACHER_PERIODS, key, set={flag: True})
    return True


def _at_school(batch: ViewBatch, event: Event, **change: Any) -> None:
    batch.views(SECTION, event, batch.school_org(event["payload"]["school_code"]), **change)


def on_programme_created(batch: ViewBatch, event: Event) -> None:
    batch.views(SECTION, event, event["org"], inc={"programmes": 1})


def on_session_scheduled(batch: ViewBatch, event: Event) -> None:
    mode = event["payload"]["mode"]
    batch.views(SECTION, event, event["org"], inc={"sessions_scheduled": 1, f"sessions_{mode}": 1})


def on_session_cancelled(batch: ViewBatch, event: Event) -> None:
    batch.views(SECTION, event, event["org"], inc={"sessions_cancelled": 1})


def _enrolled(batch: ViewBatch, event: Event, extra: dict[str, int]) -> None:
    p = event["payload"]
    inc = {"enrolments": 1, f"enrolments_{p['mode']}": 1, **extra}
    if _first(batch, p, "enrolled"):
        inc["teachers_enrolled"] = 1
    _at_school(batch, event, inc=inc)


def on_enrolment_created(batch: ViewBatch, event: Event) -> None:
    if event["payload"]["status"] == "waitlisted":
        _at_school(batch, event, inc={"waitlisted": 1})
    else:
        _enrolled(batch, event, {})


def on_seat_offered(batch: ViewBatch, event: Event) -> None:
    _enrolled(batch, event, {"waitlisted": -1})


def on_enrolment_withdrawn(batch: ViewBatch, event: Event) -> None:
    was = "enrolments" if event["payload"]["previous_status"] == "enrolled" else "waitlisted"
    _at_school(batch, event, inc={"withdrawals": 1, was: -1})


def on_attendance(batch: ViewBatch, event: Event) -> None:
    _at_school(batch, event, inc={f"attendance_records_{event['payload']['mode']}": 1})


def on_completion(batch: ViewBatch, event: Event) -> None:
    p = event["payload"]
    hours = p["hours_credited"]
    inc: dict[str, float] = {"completions": 1, "pd_hours": hours}
    if _first(batch, p, "completed"):
        inc["teachers_completed"] = 1
    key = _year_key(p)
    before = (batch.doc(TEACHER_YEARS, key) or {}).get("hours", 0.0)
    target = pd_hours_target(p["period"]["academic_year"])
    if before < target <= before + hours:  # the teacher reaches this year's target with this completion
        inc["teachers_meeting_target"] = 1
    batch.remember(TEACHER_YEARS, key, {"hours": before + hours})
    batch.change(TEACHER_YEARS, key, inc={"hours": hours})
    _at_school(batch, event, inc=inc)


HANDLERS = {
    "training.ProgrammeCreated": on_programme_created,
    "training.SessionScheduled": on_session_scheduled,
    "training.SessionCancelled": on_session_cancelled,
    "training.EnrolmentCreated": on_enrolment_created,
    "training.SeatOffered": on_seat_offered,
    "training.EnrolmentWithdrawn": on_enrolment_withdrawn,
    "training.AttendanceRecorded": on_attendance,
    "training.CompletionAchieved": on_completion,
}
