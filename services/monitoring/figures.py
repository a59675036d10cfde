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
