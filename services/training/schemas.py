"""Request and response schemas. Create bodies never carry ids, org paths, status, version or actor: the
service derives them (only `host_level` + `host_code`, `teacher_id` and `session_id` name targets)."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, fields, validate

from services.training.domain import (
    ATTENDANCE_MODES,
    ENROLMENT_STATUSES,
    GRADE_BANDS,
    HOST_LEVELS,
    PROGRAMME_STATUSES,
    SESSION_MODES,
)
from shared.schemas import (
    Code,
    EntitySchema,
    OrgFilterSchema,
    PeriodOutSchema,
    StrictSchema,
    Text,
    page_of,
)

# Bounded so every date maps to a Buddhist-Era year the event contracts accept.
DATES = validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31))
TIME = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="a time is HH:MM (24-hour)")
MAX_SEATS = 10_000
MAX_SESSION_MINUTES = 24 * 60


def Day(**kwargs: Any) -> fields.Date:
    # x-minimum/x-maximum (from DATES) are not JSON Schema; the year pattern states the same range in a
    # form clients and validators enforce: every date of the years 2000-2100 lies inside DATES
    metadata = {"pattern": r"^(20[0-9]{2}|2100)-", **kwargs.pop("metadata", {})}
    return fields.Date(validate=DATES, metadata=metadata, **kwargs)


def Time(**kwargs: Any) -> fields.String:
    return fields.String(validate=TIME, **kwargs)


# --- headers --------------------------------------------------------------------------------------------


# --- request bodies -------------------------------------------------------------------------------------


class ProgrammeCreateSchema(StrictSchema):
    title_th = Text(300, required=True)
    title_en = Text(300)
    competency_area = Text(200, required=True, metadata={"description": "e.g. active learning, coding"})
    subject = Text(100, required=True, metadata={"description": "the target group's subject (or 'all')"})
    grade_band = fields.String(required=True, validate=validate.OneOf(GRADE_BANDS))
    credited_hours = fields.Float(
        required=True, validate=validate.Range(min=0, max=500, min_inclusive=False), allow_nan=False
    )
    start_date = Day(required=True)
    host_level = fields.String(required=True, validate=validate.OneOf(HOST_LEVELS))
    host_code = Code(required=True, metadata={"description": "the ESA area code or the cluster id"})
    min_attendance_share = fields.Float(
        validate=validate.Range(min=0, max=1, min_inclusive=False),
        allow_nan=False,
        metadata={"description": "share of session minutes to attend; default 0.8"},
    )
    min_assessment_score = fields.Float(
        validate=validate.Range(min=0, max=100), allow_nan=False, metadata={"description": "optional"}
    )


class ProgrammeChangeSchema(StrictSchema):
    """Publishing and closing take no fields."""


class SessionCreateSchema(StrictSchema):
    mode = fields.String(required=True, validate=validate.OneOf(SESSION_MODES))
    session_date = Day(required=True)
    start_time = Time(required=True)
    end_time = Time(required=True)
    venue = Text(300, metadata={"description": "onsite and hybrid sessions"})
    meeting_link = fields.Url(
        schemes={"https"}, validate=validate.Length(max=500), metadata={"description": "online and hybrid"}
    )
    capacity_onsite = fields.Integer(strict=True, validate=validate.Range(1, MAX_SEATS))
    capacity_online = fields.Integer(strict=True, validate=validate.Range(1, MAX_SEATS))
    title = Text(300)


class SessionRescheduleSchema(StrictSchema):
    session_date = Day(required=True)
    start_time = Time(required=True)
    end_time = Time(required=True)


class SessionCancelSchema(StrictSchema):
    reason = Text(500)


class EnrolmentCreateSchema(StrictSchema):
    teacher_id = Code(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(ATTENDANCE_MODES))


class WithdrawSchema(StrictSchema):
    """Withdrawing takes no fields."""


class AttendanceCreateSchema(StrictSchema):
    session_id = Code(required=True)
    teacher_id = Code(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(ATTENDANCE_MODES))
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(0, MAX_SESSION_MINUTES))


class CompletionCreateSchema(StrictSchema):
    teacher_id = Code(required=True)
    assessment_score = fields.Float(validate=validate.Range(min=0, max=100), allow_nan=False)


# --- list queries ---------------------------------------------------------------------------------------


class ProgrammeQuerySchema(OrgFilterSchema):
    status = fields.String(validate=validate.OneOf(PROGRAMME_STATUSES))
    host_level = fields.String(validate=validate.OneOf(HOST_LEVELS))


class RosterQuerySchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(ENROLMENT_STATUSES))
    mode = fields.String(validate=validate.OneOf(ATTENDANCE_MODES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class AttendanceQuerySchema(OrgFilterSchema):
    programme_id = Code()
    session_id = Code()
    teacher_id = Code()


class CompletionQuerySchema(OrgFilterSchema):
    programme_id = Code()
    teacher_id = Code()


class PdHoursQuerySchema(StrictSchema):
    academic_year = fields.Integer(
        validate=validate.Range(min=2500, max=2700), metadata={"description": "BE"}
    )


# --- responses ------------------------------------------------------------------------------------------


class SessionSchema(Schema):
    id = fields.String()
    mode = fields.String()
    session_date = fields.Date()
    start_time = fields.String()
    end_time = fields.String()
    minutes = fields.Integer()
    period = fields.Nested(PeriodOutSchema)
    venue = fields.String()
    meeting_link = fields.String()
    capacity_onsite = fields.Integer()
    capacity_online = fields.Integer()
    title = fields.String()
    status = fields.String()
    cancel_reason = fields.String()


class CompletionRuleSchema(Schema):
    min_attendance_share = fields.Float()
    min_assessment_score = fields.Float(allow_none=True)


class SeatsSchema(Schema):
    mode = fields.String()
    seats = fields.Integer()
    taken = fields.Integer()
    waitlisted = fields.Integer()


class ProgrammeSchema(EntitySchema):
    host_level = fields.String()
    host_code = fields.String()
    title_th = fields.String()
    title_en = fields.String()
    competency_area = fields.String()
    subject = fields.String()
    grade_band = fields.String()
    credited_hours = fields.Float()
    start_date = fields.Date()
    completion_rule = fields.Function(
        lambda p: {
            "min_attendance_share": p.min_attendance_share,
            "min_assessment_score": p.min_assessment_score,
        },
        metadata={"description": "min share of session minutes attended, optional min assessment score"},
    )
    status = fields.String()
    sessions = fields.List(fields.Nested(SessionSchema))
    seats = fields.Function(
        lambda p: [
            {"mode": m, "seats": p.seats(m), "taken": p.taken(m), "waitlisted": len(p.waitlist(m))}
            for m in ATTENDANCE_MODES
        ]
    )
    created_by = fields.String()


class SessionWriteSchema(Schema):
    """A session write answers with the session and the programme's new version (for the next If-Match)."""

    programme_id = fields.String()
    programme_version = fields.Integer()
    session = fields.Nested(SessionSchema)


class EnrolmentSchema(Schema):
    programme_id = fields.String()
    programme_version = fields.Integer(metadata={"description": "the programme's version after the write"})
    teacher_id = fields.String()
    school_code = fields.String()
    mode = fields.String()
    status = fields.String()
    seq = fields.Integer(metadata={"description": "the order teachers joined the roster in"})
    enrolled_by = fields.String()


class AttendanceSchema(EntitySchema):
    programme_id = fields.String()
    session_id = fields.String()
    teacher_id = fields.String()
    school_code = fields.String()
    session_date = fields.Date()
    minutes_by_mode = fields.Dict(keys=fields.String(), values=fields.Integer())
    credited_minutes = fields.Integer(metadata={"description": "online and onsite count once: the larger"})
    recorded_by = fields.String()


class CompletionSchema(EntitySchema):
    programme_id = fields.String()
    teacher_id = fields.String()
    school_code = fields.String()
    completed_on = fields.Date()
    hours_credited = fields.Float()
    attendance_share = fields.Float()
    assessment_score = fields.Float(allow_none=True)
    assessed_by = fields.String()
    certificate_code = fields.String(metadata={"description": "the certificate's public verification code"})


ATTENDANCE_REPORT_BODY = {
    "required": True,
    "description": "A participant report as the request body (`Content-Type: text/csv`), UTF-8 with or "
    "without a BOM, exported from Zoom, Teams or Meet: columns Name and/or Email, and Join time + Leave time "
    "or Duration (minutes), named case-insensitively; comma, semicolon or tab separated. At most the "
    "service's request size limit (413 beyond it). E.g. `curl --data-binary @participants.csv "
    "-H 'Content-Type: text/csv' ...`",
    "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
}


class ImportedTeacherSchema(Schema):
    teacher_id = fields.String()
    minutes = fields.Integer(
        metadata={"description": "online minutes from the report, rejoins merged, capped"}
    )
    credited_minutes = fields.Integer(
        metadata={"description": "the session's credit: online and onsite once"}
    )
    lines = fields.List(fields.Integer(), metadata={"description": "the report's lines of this teacher"})
    changed = fields.Boolean(metadata={"description": "false when the same minutes were already recorded"})


class UnmatchedRowSchema(Schema):
    line = fields.Integer()
    name = fields.String()
    email = fields.String()
    reason = fields.String()


class InvalidRowSchema(Schema):
    line = fields.Integer()
    reason = fields.String()


class AttendanceImportSchema(Schema):
    programme_id = fields.String()
    session_id = fields.String()
    mode = fields.String(metadata={"description": "always online"})
    rows = fields.Integer(metadata={"description": "participant rows read (valid and invalid)"})
    matched_rows = fields.Integer()
    matched_teachers = fields.Integer()
    recorded = fields.Integer(metadata={"description": "teachers whose attendance changed"})
    unchanged = fields.Integer(metadata={"description": "teachers already recorded with these minutes"})
    teachers = fields.List(fields.Nested(ImportedTeacherSchema))
    unmatched = fields.List(fields.Nested(UnmatchedRowSchema))
    invalid = fields.List(fields.Nested(InvalidRowSchema))


class CertificateVerificationSchema(Schema):
    """All that a verification code reveals."""

    name = fields.String(metadata={"description": "the teacher's name (Thai)"})
    name_en = fields.String()
    programme_title_th = fields.String()
    programme_title_en = fields.String()
    completed_on = fields.Date()
    valid = fields.Boolean()


class PdYearSchema(Schema):
    academic_year = fields.Integer(metadata={"description": "Buddhist Era"})
    hours = fields.Float()
    target_hours = fields.Float()
    remaining_hours = fields.Float()
    met = fields.Boolean()
    completions = fields.List(fields.Nested(CompletionSchema))


class PdHoursSchema(Schema):
    teacher_id = fields.String()
    school_code = fields.String()
    years = fields.List(fields.Nested(PdYearSchema))


ProgrammePageSchema = page_of(ProgrammeSchema)
EnrolmentPageSchema = page_of(EnrolmentSchema)
AttendancePageSchema = page_of(AttendanceSchema)
CompletionPageSchema = page_of(CompletionSchema)
