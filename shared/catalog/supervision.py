"""Collaborative-supervision events (`supervision.events`). Every payload carries the activity's period.

Versions: `CoachingSessionRecorded` is at v2. Its v1 `minutes` did not say whose minutes they were (the
session's length, or summed over the teachers coached?), so v2 names it `duration_minutes`: the length of the
session. The upcaster below turns a v1 payload into v2, so the log's old events still replay.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from shared.catalog import catalog
from shared.catalog.common import Payload, Period, code

MODES = ("onsite", "online")
SESSION_KINDS = ("coaching", "mentoring")


class WithPeriod(Payload):
    period = fields.Nested(Period, required=True)


class PlanCreated(WithPeriod):
    plan_id = code(required=True)
    esa_code = code(required=True)
    title = fields.String(required=True)
    target_school_codes = fields.List(code(), required=True)
    focus_areas = fields.List(fields.String(), required=True)


class VisitScheduled(WithPeriod):
    visit_id = code(required=True)
    school_code = code(required=True)
    supervisor_id = fields.String(required=True)
    scheduled_date = fields.Date(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    plan_id = code(load_default=None, allow_none=True)


class VisitCompleted(WithPeriod):
    visit_id = code(required=True)
    school_code = code(required=True)
    visit_date = fields.Date(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    rubric_scores = fields.Dict(
        keys=fields.String(), values=fields.Float(validate=validate.Range(1, 4)), required=True
    )
    teachers_observed = fields.List(fields.String(), required=True)


class VisitCancelled(WithPeriod):
    visit_id = code(required=True)
    school_code = code(required=True)
    reason = fields.String(load_default="")


class CoachingSession(WithPeriod):
    session_id = code(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(SESSION_KINDS))
    school_code = code(required=True)
    session_date = fields.Date(required=True)
    teacher_ids = fields.List(fields.String(), required=True)


class CoachingSessionRecordedV1(CoachingSession):
    minutes = fields.Integer(required=True)


class CoachingSessionRecorded(CoachingSession):
    duration_minutes = fields.Integer(required=True, validate=validate.Range(min=0))


class PlcSessionRecorded(WithPeriod):
    session_id = code(required=True)
    cluster_id = code(required=True)
    school_codes = fields.List(code(), required=True)
    session_date = fields.Date(required=True)
    topic = fields.String(required=True)
    teacher_count = fields.Integer(required=True)


class FindingRecorded(WithPeriod):
    finding_id = code(required=True)
    visit_id = code(required=True)
    school_code = code(required=True)
    domain = fields.String(required=True)
    recommendation = fields.String(required=True)


class FollowUpOpened(WithPeriod):
    follow_up_id = code(required=True)
    finding_id = code(required=True)
    school_code = code(required=True)
    owner = fields.String(required=True)
    due_date = fields.Date(required=True)


class FollowUpCompleted(WithPeriod):
    follow_up_id = code(required=True)
    school_code = code(required=True)
    completed_date = fields.Date(required=True)
    was_overdue = fields.Boolean(required=True)


class FollowUpOverdue(WithPeriod):
    follow_up_id = code(required=True)
    school_code = code(required=True)
    due_date = fields.Date(required=True)


for _name, _schema in {
    "PlanCreated": PlanCreated,
    "VisitScheduled": VisitScheduled,
    "VisitCompleted": VisitCompleted,
    "VisitCancelled": VisitCancelled,
    "PlcSessionRecorded": PlcSessionRecorded,
    "FindingRecorded": FindingRecorded,
    "FollowUpOpened": FollowUpOpened,
    "FollowUpCompleted": FollowUpCompleted,
    "FollowUpOverdue": FollowUpOverdue,
}.items():
    catalog.register(f"supervision.{_name}", 1, _schema)
catalog.register("supervision.CoachingSessionRecorded", 1, CoachingSessionRecordedV1)
catalog.register("supervision.CoachingSessionRecorded", 2, CoachingSessionRecorded)


@catalog.upcaster("supervision.CoachingSessionRecorded", 1)
def coaching_minutes_named(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 → v2: `minutes` was the session's length."""
    upcast = {k: v for k, v in payload.items() if k != "minutes"}
    return {**upcast, "duration_minutes": payload["minutes"]}
