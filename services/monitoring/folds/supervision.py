"""Collaborative-supervision events become activity counters in the `supervision` section of the views."""

from __future__ import annotations

from services.monitoring.views import UNITS, VIEWS, Event, ViewBatch, unit_key, view_key

SECTION = "supervision"


def preload(events: list[Event]) -> dict[str, list[str]]:
    """The schools' views of the visits' semesters, to count each school's first visit once (coverage)."""
    keys = [
        view_key("school", e["payload"]["school_code"], e["payload"]["period"])
        for e in events
        if e["event_type"] == "supervision.VisitCompleted"
    ]
    return {VIEWS: keys}


def on_visit_scheduled(batch: ViewBatch, event: Event) -> None:
    batch.views(SECTION, event, event["org"], inc={"visits_planned": 1})


def on_visit_completed(batch: ViewBatch, event: Event) -> None:
    p = event["payload"]
    inc: dict[str, float] = {
        "visits_done": 1,
        f"visits_{p['mode']}": 1,
        "teachers_observed": len(p["teachers_observed"]),
    }
    for domain, score in p["rubric_scores"].items():
        inc[f"rubric.{domain}.sum"] = score
        inc[f"rubric.{domain}.count"] = 1
    key = view_key("school", p["school_code"], p["period"])
    seen = batch.doc(VIEWS, key)
    if not (seen and seen.get(SECTION, {}).get("visits_done")):  # first visit this semester: coverage rises
        batch.remember(VIEWS, key, {SECTION: {"visits_done": 1}})
        inc["schools_visited"] = 1
    batch.views(SECTION, event, event["org"], inc=inc, max={"last_visit_date": p["visit_date"]})
    # the latest visit in any semester, for "not visited for N days"
    batch.change(
        UNITS,
        unit_key("school", p["school_code"]),
        max={"latest_visit_date": p["visit_date"]},
        on_insert={"level": "school", "code": p["school_code"]},
    )


def on_visit_cancelled(batch: ViewBatch, event: Event) -> None:
    batch.views(SECTION, event, event["org"], inc={"visits_cancelled": 1})


def on_coaching(batch: ViewBatch, event: Event) -> None:
    p = event["payload"]
    inc = {f"{p['kind']}_sessions": 1, f"{p['kind']}_minutes": p["duration_minutes"]}
    batch.views(SECTION, event, event["org"], inc=inc)


def on_plc(batch: ViewBatch, event: Event) -> None:
    p = event["payload"]
    cluster_org = {**event["org"], "school_code": None}
    batch.views(SECTION, event, cluster_org, inc={"plc_sessions": 1, "plc_teachers": p["teacher_count"]})
    for school_code in p["school_codes"]:
        org = {**cluster_org, "school_code": school_code}
        batch.view(SECTION, "school", school_code, event, org, inc={"plc_sessions": 1})


def on_plan(batch: ViewBatch, event: Event) -> None:
    p = event["payload"]
    batch.views(
        SECTION, event, event["org"], inc={"plans": 1, "schools_targeted": len(p["target_school_codes"])}
    )


def on_finding(batch: ViewBatch, event: Event) -> None:
    batch.views(SECTION, event, event["org"], inc={"findings": 1})


def on_follow_up_opened(batch: ViewBatch, event: Event) -> None:
    batch.views(SECTION, event, event["org"], inc={"follow_ups_opened": 1, "follow_ups_open": 1})


def on_follow_up_overdue(batch: ViewBatch, event: Event) -> None:
    batch.views(SECTION, event, event["org"], inc={"follow_ups_overdue": 1})


def on_follow_up_completed(batch: ViewBatch, event: Event) -> None:
    inc = {"follow_ups_completed": 1, "follow_ups_open": -1}
    if event["payload"]["was_overdue"]:
        inc["follow_ups_overdue"] = -1
    batch.views(SECTION, event, event["org"], inc=inc)


HANDLERS = {
    "supervision.PlanCreated": on_plan,
    "supervision.VisitScheduled": on_visit_scheduled,
    "supervision.VisitCompleted": on_visit_completed,
    "supervision.VisitCancelled": on_visit_cancelled,
    "supervision.CoachingSessionRecorded": on_coaching,
    "supervision.PlcSessionRecorded": on_plc,
    "supervision.FindingRecorded": on_finding,
    "supervision.FollowUpOpened": on_follow_up_opened,
    "supervision.FollowUpOverdue": on_follow_up_overdue,
    "supervision.FollowUpCompleted": on_follow_up_completed,
}
