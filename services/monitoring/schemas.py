"""Monitoring read API schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.schemas import Code, StrictSchema

LEVEL = validate.OneOf(["school", "cluster", "esa", "province", "national"])


class PeriodQuerySchema(StrictSchema):
    academic_year = fields.Integer(validate=validate.Range(min=2500, max=2700))
    semester = fields.Integer(validate=validate.OneOf([1, 2]))


class ViewPathSchema(StrictSchema):
    level = fields.String(required=True, validate=LEVEL)
    code = Code(required=True)


class PeriodSchema(Schema):
    academic_year = fields.Integer(metadata={"description": "Buddhist Era"})
    semester = fields.Integer()
    label_th = fields.String()
    label_en = fields.String()


class SupervisionFiguresSchema(Schema):
    plans = fields.Integer()
    schools_targeted = fields.Integer()
    visits_planned = fields.Integer()
    visits_done = fields.Integer()
    visits_onsite = fields.Integer()
    visits_online = fields.Integer()
    visits_cancelled = fields.Integer()
    schools_visited = fields.Integer()
    schools_total = fields.Integer()
    coverage = fields.Float(
        allow_none=True, metadata={"description": "share of schools visited this semester"}
    )
    teachers_observed = fields.Integer()
    rubric_mean = fields.Float(allow_none=True)
    rubric_mean_by_domain = fields.Dict(keys=fields.String(), values=fields.Float())
    coaching_sessions = fields.Integer()
    mentoring_sessions = fields.Integer()
    plc_sessions = fields.Integer()
    findings = fields.Integer()
    follow_ups_opened = fields.Integer()
    follow_ups_open = fields.Integer()
    follow_ups_overdue = fields.Integer()
    follow_ups_completed = fields.Integer()
    last_visit_date = fields.String(allow_none=True)


class TrainingFiguresSchema(Schema):
    programmes = fields.Integer()
    sessions_scheduled = fields.Integer()
    sessions_onsite = fields.Integer()
    sessions_online = fields.Integer()
    sessions_hybrid = fields.Integer()
    sessions_cancelled = fields.Integer()
    sessions_held = fields.Integer(metadata={"description": "scheduled and not cancelled"})
    enrolments = fields.Integer()
    enrolments_onsite = fields.Integer()
    enrolments_online = fields.Integer()
    waitlisted = fields.Integer()
    withdrawals = fields.Integer()
    attendance_records_onsite = fields.Integer()
    attendance_records_online = fields.Integer()
    teachers_enrolled = fields.Integer(metadata={"description": "distinct teachers enrolled this semester"})
    teachers_completed = fields.Integer()
    completion_rate = fields.Float(allow_none=True)
    completions = fields.Integer()
    pd_hours = fields.Float(metadata={"description": "PD hours credited this semester"})
    teachers_total = fields.Integer()
    pd_hours_per_teacher = fields.Float(allow_none=True)
    teachers_meeting_pd_target = fields.Integer(metadata={"description": "academic year to date"})
    share_meeting_pd_target = fields.Float(allow_none=True)


class UnitViewSchema(Schema):
    level = fields.String()
    code = fields.String()
    name_th = fields.String()
    name_en = fields.String()
    as_of = fields.AwareDateTime(allow_none=True, metadata={"description": "time of the last event applied"})
    supervision = fields.Nested(SupervisionFiguresSchema)
    training = fields.Nested(TrainingFiguresSchema)


class ViewSchema(UnitViewSchema):
    parent = fields.Dict(allow_none=True)
    period = fields.Nested(PeriodSchema)
    age_seconds = fields.Float(allow_none=True, metadata={"description": "seconds since `as_of`"})
    children = fields.List(fields.Nested(UnitViewSchema))


class PartitionLagSchema(Schema):
    topic = fields.String()
    partition = fields.Integer()
    position = fields.Integer(metadata={"description": "next offset the projector will read"})
    end_offset = fields.Integer(allow_none=True)
    lag = fields.Integer(allow_none=True)
    updated_at = fields.AwareDateTime(allow_none=True)


class LagSchema(Schema):
    group = fields.String()
    total_lag = fields.Integer(allow_none=True)
    broker_reachable = fields.Boolean()
    partitions = fields.List(fields.Nested(PartitionLagSchema))


class PeriodListSchema(Schema):
    current = fields.Nested(PeriodSchema)
    periods = fields.List(fields.Nested(PeriodSchema))
