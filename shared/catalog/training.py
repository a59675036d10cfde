"""Hybrid-training events (`training.events`). Every payload carries the period of its activity: the
session's date for session, attendance and completion events, the programme's start for the others.

Rescheduling and cancelling a session carry the enrolled teachers, so they can be notified.
"""

from __future__ import annotations

from marshmallow import fields, validate

from shared.catalog import catalog
from shared.catalog.common import Payload, Period, code

SESSION_MODES = ("onsite", "online", "hybrid")
ATTENDANCE_MODES = ("onsite", "online")
ENROLMENT_STATUSES = ("enrolled", "waitlisted")
HOST_LEVELS = ("esa", "cluster")
TIME = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class WithPeriod(Payload):
    period = fields.Nested(Period, required=True)


class ProgrammeCreated(WithPeriod):
    programme_id = code(required=True)
    title_th = fields.String(required=True)
    title_en = fields.String(load_default="")
    competency_area = fields.String(required=True)
    host_level = fields.String(required=True, validate=validate.OneOf(HOST_LEVELS))
    host_code = code(required=True)
    credited_hours = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))


class ProgrammePublished(WithPeriod):
    programme_id = code(required=True)


class ProgrammeClosed(WithPeriod):
    programme_id = code(required=True)


class SessionScheduled(WithPeriod):
    programme_id = code(required=True)
    session_id = code(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(SESSION_MODES))
    session_date = fields.Date(required=True)
    start_time = fields.String(required=True, validate=TIME)
    end_time = fields.String(required=True, validate=TIME)
    minutes = fields.Integer(required=True, validate=validate.Range(min=1))


class SessionRescheduled(WithPeriod):
    programme_id = code(required=True)
    session_id = code(required=True)
    previous_date = fields.Date(required=True)
    session_date = fields.Date(required=True)
    start_time = fields.String(required=True, validate=TIME)
    end_time = fields.String(required=True, validate=TIME)
    teacher_ids = fields.List(fields.String(), required=True)


class SessionCancelled(WithPeriod):
    programme_id = code(required=True)
    session_id = code(required=True)
    session_date = fields.Date(required=True)
    reason = fields.String(load_default="")
    teacher_ids = fields.List(fields.String(), required=True)


class EnrolmentCreated(WithPeriod):
    programme_id = code(required=True)
    teacher_id = code(required=True)
    school_code = code(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(ATTENDANCE_MODES))
    status = fields.String(required=True, validate=validate.OneOf(ENROLMENT_STATUSES))


class EnrolmentWithdrawn(WithPeriod):
    programme_id = code(required=True)
    teacher_id = code(required=True)
    school_code = code(required=True)
    previous_status = fields.String(required=True, validate=validate.OneOf(ENROLMENT_STATUSES))


class SeatOffered(WithPeriod):
    """A freed seat went to the first teacher on the waitlist of its mode: they are enrolled now."""

    programme_id = code(required=True)
    teacher_id = code(required=True)
    school_code = code(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(ATTENDANCE_MODES))


class AttendanceRecorded(WithPeriod):
    programme_id = code(required=True)
    session_id = code(required=True)
    teacher_id = code(required=True)
    school_code = code(required=True)
    session_date = fields.Date(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(ATTENDANCE_MODES))
    minutes = fields.Integer(required=True, validate=validate.Range(min=0))
    # online and onsite in the same session count once: the larger of the two
    credited_minutes = fields.Integer(required=True, validate=validate.Range(min=0))


class CompletionAchieved(WithPeriod):
    programme_id = code(required=True)
    teacher_id = code(required=True)
    school_code = code(required=True)
    hours_credited = fields.Float(required=True, validate=validate.Range(min=0))
    attendance_share = fields.Float(required=True, validate=validate.Range(0, 1))
    assessment_score = fields.Float(load_default=None, allow_none=True)


for _name, _schema in {
    "ProgrammeCreated": ProgrammeCreated,
    "ProgrammePublished": ProgrammePublished,
    "ProgrammeClosed": ProgrammeClosed,
    "SessionScheduled": SessionScheduled,
    "SessionRescheduled": SessionRescheduled,
    "SessionCancelled": SessionCancelled,
    "EnrolmentCreated": EnrolmentCreated,
    "EnrolmentWithdrawn": EnrolmentWithdrawn,
    "SeatOffered": SeatOffered,
    "AttendanceRecorded": AttendanceRecorded,
    "CompletionAchieved": CompletionAchieved,
}.items():
    catalog.register(f"training.{_name}", 1, _schema)
