"""Schemas of the dashboard's read API: the caller, the pulse, trends and a school's activity."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.monitoring.schemas import PeriodQuerySchema, PeriodSchema
from shared.schemas import StrictSchema

MAX_SEMESTERS = 12
MAX_ACTIVITY = 100


class UnitRefSchema(Schema):
    level = fields.String(metadata={"description": "school, cluster, esa, province or national"})
    code = fields.String(allow_none=True, metadata={"description": "null in a national scope"})


class MeSchema(Schema):
    sub = fields.String()
    name = fields.String()
    role = fields.String()
    scope = fields.Nested(UnitRefSchema, metadata={"description": "the token's org scope"})
    home = fields.Nested(
        UnitRefSchema, metadata={"description": "the unit to open first: the scope's (national code `TH`)"}
    )


class ProjectorStatusSchema(Schema):
    status = fields.String(
        metadata={
            "description": "`unreachable` when the broker cannot be asked, `lagging` when the total lag "
            "exceeds ANP_DASHBOARD_LAG_WARN, else `ok`"
        }
    )
    lag = fields.Integer(allow_none=True, metadata={"description": "events not projected yet"})


class PulseSchema(Schema):
    as_of = fields.AwareDateTime(
        allow_none=True, metadata={"description": "the unit's latest projected change (as in its view)"}
    )
    age_seconds = fields.Float(allow_none=True, metadata={"description": "seconds since `as_of`"})
    alerts_changed_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "latest alert raised or cleared in the unit and below"}
    )
    alerts_open = fields.Integer(metadata={"description": "open alerts of the unit and below"})
    projector = fields.Nested(ProjectorStatusSchema)
    server_time = fields.AwareDateTime()


class TrendsQuerySchema(PeriodQuerySchema):
    semesters = fields.Integer(
        load_default=6,
        validate=validate.Range(min=1, max=MAX_SEMESTERS),
        metadata={"description": f"how many semesters, ending with the given one (1–{MAX_SEMESTERS})"},
    )


class TrendsActivitySchema(Schema):
    supervision = fields.List(fields.Integer(), metadata={"description": "visits_done per semester"})
    training = fields.List(fields.Integer(), metadata={"description": "sessions_held per semester"})
    committee = fields.List(fields.Integer(), metadata={"description": "meetings_held per semester"})


class TrendsSchema(Schema):
    level = fields.String()
    code = fields.String()
    name_th = fields.String()
    name_en = fields.String()
    periods = fields.List(fields.Nested(PeriodSchema), metadata={"description": "oldest first"})
    indicators = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Float(allow_none=True)),
        metadata={"description": "per indicator code, its value in each period (null: no data)"},
    )
    activity = fields.Nested(TrendsActivitySchema)


class ActivityQuerySchema(StrictSchema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_ACTIVITY))


class ActivityItemSchema(Schema):
    at = fields.String(metadata={"description": "YYYY-MM-DD (Thai calendar day of the activity)"})
    model = fields.String(metadata={"description": "supervision, training or committee"})
    kind = fields.String(metadata={"description": "the event type, e.g. `supervision.VisitCompleted`"})
    title_th = fields.String()
    title_en = fields.String(metadata={"description": "counts, dates and ids only: no person's name"})
    status_th = fields.String()
    status_en = fields.String()


class ActivityListSchema(Schema):
    code = fields.String()
    items = fields.List(fields.Nested(ActivityItemSchema), metadata={"description": "newest first"})
