"""Request and response schemas. Create bodies never carry ids, org paths, status, version or actor: the
service derives them (only `school_code` / `cluster_id` name the target)."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, fields, validate

from services.supervision.domain import (
    FOLLOW_UP_STATUSES,
    MAX_SCORE,
    MAX_SESSION_MINUTES,
    MIN_PLC_SCHOOLS,
    MIN_SCORE,
    MODES,
    RUBRIC_CODES,
    SESSION_KINDS,
    VISIT_STATUSES,
)
from shared.schemas import (
    Code,
    EntitySchema,
    OrgFilterSchema,
    StrictSchema,
    Text,
    page_of,
)

# Bounded so every date maps to a Buddhist-Era year the event contracts accept.
DATES = validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31))
MAX_TEACHERS = 200


def Day(**kwargs: Any) -> fields.Date:
    # x-minimum/x-maximum (from DATES) are not JSON Schema; the year pattern states the same range in a
    # form clients and validators enforce: every date of the years 2000-2100 lies inside DATES
    metadata = {"pattern": r"^(20[0-9]{2}|2100)-", **kwargs.pop("metadata", {})}
    return fields.Date(validate=DATES, metadata=metadata, **kwargs)


def Codes(min_items: int = 1, max_items: int = MAX_TEACHERS, **kwargs: Any) -> fields.List:
    return fields.List(Code(), validate=validate.Length(min=min_items, max=max_items), **kwargs)


# --- headers --------------------------------------------------------------------------------------------


# --- request bodies -------------------------------------------------------------------------------------


class PlanCreateSchema(StrictSchema):
    title = Text(200, required=True)
    academic_year = fields.Integer(
        required=True, strict=True, validate=validate.Range(2543, 2643), metadata={"description": "BE"}
    )
    semester = fields.Integer(required=True, strict=True, validate=validate.OneOf([1, 2]))
    target_school_codes = Codes(max_items=1000, required=True)
    focus_areas = fields.List(Text(200), required=True, validate=validate.Length(min=1, max=20))


class VisitScheduleSchema(StrictSchema):
    school_code = Code(required=True)
    scheduled_date = Day(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    plan_id = Code(load_default=None)


class VisitCompleteSchema(StrictSchema):
    visit_date = Day(required=True)
    mode = fields.String(
        validate=validate.OneOf(MODES), metadata={"description": "defaults to the mode scheduled"}
    )
    rubric_scores = fields.Dict(
        keys=fields.String(validate=validate.OneOf(RUBRIC_CODES)),
        values=fields.Integer(strict=True, validate=validate.Range(MIN_SCORE, MAX_SCORE)),
        required=True,
        validate=validate.Length(min=1),
        metadata={
            "description": "score 1-4 per rubric domain (see GET /rubric-domains)",
            "minProperties": 1,
            "properties": {
                code: {"type": "integer", "minimum": MIN_SCORE, "maximum": MAX_SCORE} for code in RUBRIC_CODES
            },
        },
    )
    teachers_observed = Codes(required=True)
    notes = Text(2000)


class VisitCancelSchema(StrictSchema):
    reason = Text(500)


class CoachingCreateSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(SESSION_KINDS))
    school_code = Code(required=True)
    session_date = Day(required=True)
    teacher_ids = Codes(required=True)
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_SESSION_MINUTES))
    topic = Text(300)


class PlcCreateSchema(StrictSchema):
    cluster_id = Code(required=True)
    school_codes = Codes(min_items=MIN_PLC_SCHOOLS, max_items=100, required=True)
    session_date = Day(required=True)
    topic = Text(300, required=True)
    teacher_ids = Codes(max_items=1000, required=True)


class FindingCreateSchema(StrictSchema):
    domain = fields.String(required=True, validate=validate.OneOf(RUBRIC_CODES))
    finding = Text(2000, required=True)
    recommendation = Text(2000, required=True)


class FollowUpCreateSchema(StrictSchema):
    owner = Text(200, required=True, metadata={"description": "who carries the action out"})
    action = Text(2000, required=True)
    due_date = Day(required=True)


class FollowUpCompleteSchema(StrictSchema):
    completed_date = Day(metadata={"description": "defaults to today (Thailand)"})
    note = Text(2000)


# --- list queries ---------------------------------------------------------------------------------------


class VisitQuerySchema(OrgFilterSchema):
    status = fields.String(validate=validate.OneOf(VISIT_STATUSES))


class CoachingQuerySchema(OrgFilterSchema):
    kind = fields.String(validate=validate.OneOf(SESSION_KINDS))


class FindingQuerySchema(OrgFilterSchema):
    visit_id = Code()


class FollowUpQuerySchema(OrgFilterSchema):
    status = fields.String(validate=validate.OneOf(FOLLOW_UP_STATUSES))
    finding_id = Code()


# --- responses ------------------------------------------------------------------------------------------


class PlanSchema(EntitySchema):
    esa_code = fields.String()
    title = fields.String()
    target_school_codes = fields.List(fields.String())
    focus_areas = fields.List(fields.String())
    created_by = fields.String()


class VisitSchema(EntitySchema):
    school_code = fields.String()
    supervisor_id = fields.String()
    scheduled_date = fields.Date()
    mode = fields.String()
    plan_id = fields.String(allow_none=True)
    status = fields.String()
    visit_date = fields.Date(allow_none=True)
    rubric_scores = fields.Dict(keys=fields.String(), values=fields.Integer())
    teachers_observed = fields.List(fields.String())
    notes = fields.String()
    cancel_reason = fields.String()


class CoachingSchema(EntitySchema):
    kind = fields.String()
    school_code = fields.String()
    session_date = fields.Date()
    teacher_ids = fields.List(fields.String())
    minutes = fields.Integer()
    topic = fields.String()
    coach_id = fields.String()


class PlcSchema(EntitySchema):
    cluster_id = fields.String()
    session_date = fields.Date()
    topic = fields.String()
    school_codes = fields.List(fields.String())
    teacher_ids = fields.List(fields.String())
    teacher_count = fields.Function(lambda s: len(s.teacher_ids))
    facilitator_id = fields.String()


class FindingSchema(EntitySchema):
    visit_id = fields.String()
    school_code = fields.String()
    visit_date = fields.Date()
    domain = fields.String()
    finding = fields.String()
    recommendation = fields.String()
    recorded_by = fields.String()


class FollowUpSchema(EntitySchema):
    finding_id = fields.String()
    visit_id = fields.String()
    school_code = fields.String()
    owner = fields.String()
    action = fields.String()
    due_date = fields.Date()
    status = fields.String()
    completed_date = fields.Date(allow_none=True)
    was_overdue = fields.Boolean()
    note = fields.String()


class RubricDomainSchema(Schema):
    code = fields.String()
    name_th = fields.String()
    name_en = fields.String()


class RubricSchema(Schema):
    domains = fields.List(fields.Nested(RubricDomainSchema))
    levels = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


PlanPageSchema = page_of(PlanSchema)
VisitPageSchema = page_of(VisitSchema)
CoachingPageSchema = page_of(CoachingSchema)
PlcPageSchema = page_of(PlcSchema)
FindingPageSchema = page_of(FindingSchema)
FollowUpPageSchema = page_of(FollowUpSchema)
