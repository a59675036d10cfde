"""Figures derived on read from a view's counters: shares and means are never stored, so they never drift."""

from __future__ import annotations

from typing import Any

COUNTERS = (
    "plans",
    "schools_targeted",
    "visits_planned",
    "visits_done",
    "visits_onsite",
    "visits_online",
    "visits_cancelled",
    "schools_visited",
    "teachers_observed",
    "coaching_sessions",
    "mentoring_sessions",
    "plc_sessions",
    "findings",
    "follow_ups_opened",
    "follow_ups_open",
    "follow_ups_overdue",
    "follow_ups_completed",
)


def supervision_figures(view: dict[str, Any] | None, schools_total: int) -> dict[str, Any]:
    counters = (view or {}).get("supervision", {})
    figures: dict[str, Any] = {name: counters.get(name, 0) for name in COUNTERS}
    rubric = counters.get("rubric", {})
    figures["rubric_mean_by_domain"] = {
        domain: round(s["sum"] / s["count"], 2) for domain, s in sorted(rubric.items()) if s.get("count")
    }
    total = sum(s.get("sum", 0) for s in rubric.values())
    count = sum(s.get("count", 0) for s in rubric.values())
    figures["rubric_mean"] = round(total / count, 2) if count else None
    figures["schools_total"] = schools_total
    figures["coverage"] = round(figures["schools_visited"] / schools_total, 4) if schools_total else None
    figures["last_visit_date"] = counters.get("last_visit_date")
    return figures


TRAINING_COUNTERS = (
    "programmes",
    "sessions_scheduled",
    "sessions_onsite",
    "sessions_online",
    "sessions_hybrid",
    "sessions_cancelled",
    "enrolments",
    "enrolments_onsite",
    "enrolments_online",
    "waitlisted",
    "withdrawals",
    "attendance_records_onsite",
    "attendance_records_online",
    "teachers_enrolled",
    "teachers_completed",
    "completions",
    "pd_hours",
)


def training_figures(
    view: dict[str, Any] | None, teachers_total: int, earlier_this_year: dict[str, Any] | None
) -> dict[str, Any]:
    """`earlier_this_year` is the same unit's view of semester 1 when `view` is semester 2: the PD-hours
    target is yearly, so the share meeting it counts the whole academic year so far."""
    counters = (view or {}).get("training", {})
    figures: dict[str, Any] = {name: counters.get(name, 0) for name in TRAINING_COUNTERS}
    figures["sessions_held"] = figures["sessions_scheduled"] - figures["sessions_cancelled"]
    enrolled = figures["teachers_enrolled"]
    figures["completion_rate"] = round(figures["teachers_completed"] / enrolled, 4) if enrolled else None
    figures["teachers_total"] = teachers_total
    figures["pd_hours_per_teacher"] = (
        round(figures["pd_hours"] / teachers_total, 2) if teachers_total else None
    )
    meeting = counters.get("teachers_meeting_target", 0)
    meeting += (earlier_this_year or {}).get("training", {}).get("teachers_meeting_target", 0)
    figures["teachers_meeting_pd_target"] = meeting
    figures["share_meeting_pd_target"] = round(meeting / teachers_total, 4) if teachers_total else None
    return figures
