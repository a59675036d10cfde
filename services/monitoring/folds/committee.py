"""Community-engaged committee events become counters in the `committee` section of the views.

Events carry the committee's org path: a school board's is its school's, a network committee's is its
cluster's (no school), so a network meeting counts for the cluster and above and never for member schools.

Per semester (views): meetings, attendance by stakeholder group, resolutions and action items, and the
distinct committees that met (a first-time transition per committee and semester, decided from the
`committee_registry`).

Period-independent (units): how many committees a unit has and when each was last active, as counts per
date bucket `committees.last_met.<YYYY-MM-DD>`: a committee sits in the bucket of its last held meeting, or
of its establishment while it has not met since. "Inactive for more than N days" is then a sum of the
buckets older than today − N, derived on read for any N.
"""

from __future__ import annotations

from typing import Any

from services.monitoring.views import Event, ViewBatch, levels_of

SECTION = "committee"
REGISTRY = "committee_registry"  # per committee: org, kind, established and last-met dates, semesters met


def _period_key(period: dict[str, int]) -> str:
    return f"{period['academic_year']}-{period['semester']}"


def preload(events: list[Event]) -> dict[str, list[str]]:
    """The registry entries of the committees established or meeting in the batch."""
    wanted = ("committee.CommitteeEstablished", "committee.MeetingHeld")
    return {REGISTRY: [e["payload"]["committee_id"] for e in events if e["event_type"] in wanted]}


def _registry(batch: ViewBatch, committee_id: str) -> dict[str, Any]:
    return dict(batch.doc(REGISTRY, committee_id) or {})


def _move(
    batch: ViewBatch, event: Event, org: dict[str, Any], old: str | None, new: str, total: int = 0
) -> None:
    """Move one committee from the `old` activity bucket (None: not counted yet) to `new`, on every unit
    of its org path."""
    inc: dict[str, float] = {f"committees.last_met.{new}": 1}
    if old is not None:
        inc[f"committees.last_met.{old}"] = -1
    if total:
        inc["committees.total"] = total
    for level, code in levels_of(org):
        batch.unit_counters(level, code, event, inc)


def on_established(batch: ViewBatch, event: Event) -> None:
    p = event["payload"]
    state = _registry(batch, p["committee_id"])
    if state.get("established_date"):  # counted already (a re-published event): keep it idempotent
        return
    # A meeting may have been folded first (no ordering across aggregates): it is the activity date if later.
    active = max(p["established_date"], state.get("last_met") or "")
    state.update(org=event["org"], kind=p["kind"], established_date=p["established_date"], active=active)
    batch.remember(REGISTRY, p["committee_id"], state)
    batch.change(
        REGISTRY,
        p["committee_id"],
        set={"org": event["org"], "kind": p["kind"], "established_date": p["established_date"]},
        max={"active": active},
    )
    _move(batch, event, event["org"], None, active, total=1)
    batch.views(SECTION, event, event["org"], inc={"committees_established": 1})


def on_meeting_held(batch: ViewBatch, event: Event) -> None:
    p = event["payload"]
    state = _registry(batch, p["committee_id"])
    period = _period_key(p["period"])
    inc: dict[str, float] = {"meetings_held": 1}
    if p["quorum_reached"]:
        inc["meetings_with_quorum"] = 1
    for person in p["attendance"]:
        key = f"attendance.{person['stakeholder_group']}.{person['status']}"
        inc[key] = inc.get(key, 0) + 1
    change: dict[str, Any] = {"max": {"last_met": p["meeting_date"]}, "set": {}}
    if not state.get("met", {}).get(period):  # the committee's first meeting this semester
        inc["committees_met"] = 1
        state["met"] = {**state.get("met", {}), period: True}
        change["set"][f"met.{period}"] = True
    state["last_met"] = max(p["meeting_date"], state.get("last_met") or "")
    if state.get("established_date") and p["meeting_date"] > state["active"]:  # counted: move its bucket
        _move(batch, event, state["org"], state["active"], p["meeting_date"])
        state["active"] = p["meeting_date"]
        change["max"]["active"] = p["meeting_date"]
    batch.remember(REGISTRY, p["committee_id"], state)
    batch.change(REGISTRY, p["committee_id"], **change)
    batch.views(SECTION, event, event["org"], inc=inc, max={"last_meeting_date": p["meeting_date"]})


def _count(*names: str) -> Any:
    def handler(batch: ViewBatch, event: Event) -> None:
        batch.views(SECTION, event, event["org"], inc=dict.fromkeys(names, 1))

    return handler


def on_action_item_completed(batch: ViewBatch, event: Event) -> None:
    inc = {"action_items_done": 1, "action_items_open": -1}
    if event["payload"]["was_overdue"]:
        inc["action_items_overdue"] = -1
    batch.views(SECTION, event, event["org"], inc=inc)


HANDLERS = {
    "committee.CommitteeEstablished": on_established,
    "committee.MemberAppointed": _count("members_appointed"),
    "committee.MemberTermEnded": _count("member_terms_ended"),
    "committee.MeetingScheduled": _count("meetings_scheduled"),
    "committee.MeetingHeld": on_meeting_held,
    "committee.MeetingCancelled": _count("meetings_cancelled"),
    "committee.MinutesRecorded": _count("minutes_recorded"),
    "committee.ResolutionAdopted": _count("resolutions_adopted"),
    "committee.ActionItemCreated": _count("action_items_created", "action_items_open"),
    "committee.ActionItemProgressNoted": _count("action_item_progress_notes"),
    "committee.ActionItemOverdue": _count("action_items_overdue"),
    "committee.ActionItemCompleted": on_action_item_completed,
}
