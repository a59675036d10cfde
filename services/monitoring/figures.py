"""Figures derived on read from a view's counters: shares and means are never stored, so they never drift."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from shared.catalog.committee import ATTENDANCE, COMMUNITY_GROUPS, STAKEHOLDER_GROUPS

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


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def supervision_figures(
    view: dict[str, Any] | None,
    schools_total: int,
    latest_visit: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """`latest_visit` is a school's latest completed visit in any semester (ISO date), for "not visited for
    N days" as of `today`."""
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
    figures["follow_up_completion_rate"] = _share(
        figures["follow_ups_completed"], figures["follow_ups_opened"]
    )
    figures["latest_visit_date"] = latest_visit
    figures["days_since_visit"] = (
        (today - date.fromisoformat(latest_visit)).days if latest_visit and today else None
    )
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
    year = figures["pd_hours"] + (earlier_this_year or {}).get("training", {}).get("pd_hours", 0)
    figures["pd_hours_year"] = year
    figures["pd_hours_year_per_teacher"] = round(year / teachers_total, 2) if teachers_total else None
    return figures


COMMITTEE_COUNTERS = (
    "committees_established",
    "committees_met",
    "members_appointed",
    "member_terms_ended",
    "meetings_scheduled",
    "meetings_held",
    "meetings_cancelled",
    "meetings_with_quorum",
    "minutes_recorded",
    "resolutions_adopted",
    "action_items_created",
    "action_items_open",
    "action_items_overdue",
    "action_items_done",
    "action_item_progress_notes",
)


def committee_figures(
    view: dict[str, Any] | None, committees: dict[str, Any] | None, today: date, inactive_days: int
) -> dict[str, Any]:
    """`view` holds the semester's counters; `committees` is the unit's period-independent `committees`
    record (total, and committees per last-activity date), so `committees_total` and
    `committees_inactive` describe the unit as of `today`, whatever the semester."""
    counters = (view or {}).get("committee", {})
    figures: dict[str, Any] = {name: counters.get(name, 0) for name in COMMITTEE_COUNTERS}
    attendance = counters.get("attendance", {})
    present = {group: attendance.get(group, {}).get("present", 0) for group in STAKEHOLDER_GROUPS}
    recorded = {
        group: sum(attendance.get(group, {}).get(s, 0) for s in ATTENDANCE) for group in STAKEHOLDER_GROUPS
    }
    figures["attendance"] = {
        group: {status: attendance[group].get(status, 0) for status in ATTENDANCE}
        for group in STAKEHOLDER_GROUPS
        if recorded[group]
    }
    figures["attendance_rate_by_group"] = {
        group: _share(present[group], recorded[group]) for group in STAKEHOLDER_GROUPS if recorded[group]
    }
    figures["attendance_rate"] = _share(sum(present.values()), sum(recorded.values()))
    community = sum(present[group] for group in COMMUNITY_GROUPS)
    figures["community_share"] = _share(community, sum(present.values()))
    figures["quorum_rate"] = _share(figures["meetings_with_quorum"], figures["meetings_held"])
    figures["action_item_completion_rate"] = _share(
        figures["action_items_done"], figures["action_items_created"]
    )
    committees = committees or {}
    total = committees.get("total", 0)
    cutoff = (today - timedelta(days=inactive_days)).isoformat()
    figures["committees_total"] = total
    figures["committees_inactive"] = sum(
        n for day, n in committees.get("last_met", {}).items() if day < cutoff
    )
    figures["inactive_days"] = inactive_days
    figures["meetings_held_per_committee"] = round(figures["meetings_held"] / total, 2) if total else None
    figures["last_meeting_date"] = counters.get("last_meeting_date")
    return figures
