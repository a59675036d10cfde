"""Monitoring read API schemas."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

from marshmallow import Schema, fields, missing, validate
from marshmallow.utils import ensure_text_type

from shared.schemas import Code, StrictSchema

LEVEL = validate.OneOf(["school", "cluster", "esa", "province", "national"])

Dump = Callable[[Any], Any]


class CompiledDumpSchema(Schema):
    """A response schema whose dump runs plain functions built once from its fields: the output of marshmallow's
    field-by-field dump (a test compares them) at a fraction of its cost, since a national page holds tens of
    thousands of figures. The declared fields stay the documentation. Dumps mappings; no dump hooks."""

    @cached_property
    def _compiled(self) -> Dump:
        return compile_dump(self)

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        if self.many if many is None else many:
            return [self._compiled(item) for item in obj]
        return self._compiled(obj)


def compile_dump(schema: Schema) -> Dump:
    """A function dumping a mapping as `schema.dump` does: each present key through its field's conversion,
    None as None (as every field below dumps it), a missing key left out."""
    entries = [
        (field.attribute or name, name if field.data_key is None else field.data_key, _converter(field))
        for name, field in schema.dump_fields.items()
    ]

    def dump(obj: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for attr, key, convert in entries:
            value = obj.get(attr, missing)
            if value is None:
                out[key] = None
            elif value is not missing:
                out[key] = convert(value)
        return out

    return dump


def _converter(field: fields.Field) -> Dump:
    """The field's `_serialize` of a value other than None, with the common types unrolled."""
    kind = type(field)
    if kind is fields.Nested:
        nested, many = compile_dump(field.schema), field.schema.many or field.many
        return (lambda v: [nested(item) for item in v]) if many else nested
    if kind is fields.List:
        inner = _converter(field.inner)
        return lambda v: [None if item is None else inner(item) for item in v]
    if kind is fields.Dict and (field.key_field or field.value_field):
        keys = _converter(field.key_field) if field.key_field else _same
        values = _converter(field.value_field) if field.value_field else _same
        return lambda v: {keys(k): None if item is None else values(item) for k, item in v.items()}
    if kind in PLAIN and not getattr(field, "as_string", False):
        return PLAIN[kind]
    if kind in SERIALIZED:
        return lambda v: field._serialize(v, None, None)
    raise TypeError(f"no compiled dump for {kind.__name__}: add it or use a plain Schema")


def _same(value: Any) -> Any:
    return value


# exact types: a subclass may dump otherwise
PLAIN: dict[type, Dump] = {
    fields.Integer: int,
    fields.Float: float,
    fields.String: ensure_text_type,
    fields.Dict: dict,
}
SERIALIZED = {fields.Boolean, fields.AwareDateTime, fields.DateTime, fields.Date, fields.Raw}


class PeriodQuerySchema(StrictSchema):
    academic_year = fields.Integer(validate=validate.Range(min=2500, max=2700))
    semester = fields.Integer(validate=validate.OneOf([1, 2]))


class ViewQuerySchema(PeriodQuerySchema):
    inactive_days = fields.Integer(
        validate=validate.Range(min=1, max=3650),
        metadata={
            "description": "a committee with no meeting (or establishment) for more than this many days "
            "counts as inactive; default ANP_COMMITTEE_INACTIVE_DAYS (90)"
        },
    )


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
    last_visit_date = fields.String(allow_none=True, metadata={"description": "latest visit this semester"})
    follow_up_completion_rate = fields.Float(
        allow_none=True, metadata={"description": "follow_ups_completed / follow_ups_opened"}
    )
    latest_visit_date = fields.String(
        allow_none=True, metadata={"description": "a school's latest visit in any semester"}
    )
    days_since_visit = fields.Integer(
        allow_none=True, metadata={"description": "days from a school's latest visit to today"}
    )


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
    pd_hours_year = fields.Float(metadata={"description": "PD hours credited this academic year to date"})
    pd_hours_year_per_teacher = fields.Float(allow_none=True)


class AttendanceCountsSchema(Schema):
    present = fields.Integer()
    absent = fields.Integer()
    excused = fields.Integer()


class CommitteeFiguresSchema(Schema):
    committees_total = fields.Integer(
        metadata={
            "description": "committees of the unit today (school boards; network committees from cluster up)"
        }
    )
    committees_inactive = fields.Integer(
        metadata={
            "description": "committees with no meeting held, nor established, within `inactive_days` days"
        }
    )
    inactive_days = fields.Integer(metadata={"description": "the threshold used for `committees_inactive`"})
    committees_established = fields.Integer(metadata={"description": "established this semester"})
    committees_met = fields.Integer(metadata={"description": "distinct committees with a meeting held"})
    members_appointed = fields.Integer()
    member_terms_ended = fields.Integer()
    meetings_scheduled = fields.Integer()
    meetings_held = fields.Integer()
    meetings_cancelled = fields.Integer()
    meetings_with_quorum = fields.Integer()
    quorum_rate = fields.Float(
        allow_none=True, metadata={"description": "meetings_with_quorum / meetings_held"}
    )
    meetings_held_per_committee = fields.Float(
        allow_none=True, metadata={"description": "meetings_held / committees_total"}
    )
    minutes_recorded = fields.Integer()
    last_meeting_date = fields.String(allow_none=True)
    attendance = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(AttendanceCountsSchema),
        metadata={"description": "attendance records by stakeholder group"},
    )
    attendance_rate = fields.Float(
        allow_none=True, metadata={"description": "participation: present / all attendance records"}
    )
    attendance_rate_by_group = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        metadata={"description": "present / (present + absent + excused), per stakeholder group"},
    )
    community_share = fields.Float(
        allow_none=True,
        metadata={
            "description": "present parents, community, religious leaders and local government / all present"
        },
    )
    resolutions_adopted = fields.Integer()
    action_items_created = fields.Integer()
    action_items_open = fields.Integer()
    action_items_overdue = fields.Integer()
    action_items_done = fields.Integer()
    action_item_progress_notes = fields.Integer()
    action_item_completion_rate = fields.Float(
        allow_none=True, metadata={"description": "action_items_done / action_items_created"}
    )


class AchievementResultSchema(Schema):
    test = fields.String()
    grade = fields.String()
    subject = fields.String()
    subject_name_th = fields.String()
    subject_name_en = fields.String()
    mean = fields.Float(allow_none=True, metadata={"description": "weighted by pupils tested"})
    tested = fields.Integer(allow_none=True)
    schools = fields.Integer(metadata={"description": "schools with a result"})
    previous_mean = fields.Float(allow_none=True)
    previous_tested = fields.Integer(allow_none=True)
    change = fields.Float(allow_none=True, metadata={"description": "mean − previous_mean, in points"})
    province_mean = fields.Float(allow_none=True)
    national_mean = fields.Float(allow_none=True)
    suppressed = fields.Boolean(
        metadata={"description": "fewer pupils tested than the small-cell threshold: hidden from this reader"}
    )
    previous_suppressed = fields.Boolean()


class AchievementFiguresSchema(Schema):
    academic_year = fields.Integer(
        allow_none=True, metadata={"description": "results year shown: the latest up to the period"}
    )
    previous_year = fields.Integer(allow_none=True)
    onet_mean = fields.Float(allow_none=True, metadata={"description": "O-NET over subjects and grades"})
    onet_tested = fields.Integer()
    onet_previous_mean = fields.Float(allow_none=True)
    onet_change = fields.Float(allow_none=True)
    suppressed = fields.Boolean()
    results = fields.List(fields.Nested(AchievementResultSchema))


class UnitViewSchema(Schema):
    level = fields.String()
    code = fields.String()
    name_th = fields.String()
    name_en = fields.String()
    as_of = fields.AwareDateTime(allow_none=True, metadata={"description": "time of the last event applied"})
    supervision = fields.Nested(SupervisionFiguresSchema)
    training = fields.Nested(TrainingFiguresSchema)
    committee = fields.Nested(CommitteeFiguresSchema)
    achievement = fields.Nested(AchievementFiguresSchema)
    org = fields.Dict(metadata={"description": "the unit's org path"})


class AncestorSchema(Schema):
    level = fields.String()
    code = fields.String()
    name_th = fields.String()
    name_en = fields.String()
    in_scope = fields.Boolean(metadata={"description": "whether the caller may open this unit"})


class ViewSchema(UnitViewSchema, CompiledDumpSchema):
    parent = fields.Dict(allow_none=True)
    ancestors = fields.List(
        fields.Nested(AncestorSchema),
        metadata={"description": "the units above, national first down to the parent (empty for national)"},
    )
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
