"""Request and response schemas. Create bodies never carry ids, org paths, status, version or actor: the
service derives them (only `school_code` / `cluster_id` name a committee's unit)."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from datetime import date
from typing import Any

from marshmallow import Schema, fields, pre_dump, validate

from services.committee.domain import (
    ACTION_ITEM_STATUSES,
    CHAIR,
    MAX_MEMBER_RECORDS,
    MEETING_STATUSES,
    SECRETARY,
    ActionItem,
    Committee,
)
from shared.calendar import today
from shared.catalog.committee import ATTENDANCE, KINDS, MEMBER_ROLES, OWNER_KINDS, STAKEHOLDER_GROUPS
from shared.schemas import Code, EntitySchema, OrgFilterSchema, StrictSchema, Text, page_of

# Bounded so every date maps to a Buddhist-Era year the event contracts accept.
DATES = validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31))
MAX_AGENDA_ITEMS = 30
MAX_TEXT = 5000  # the longest string StrictSchema lets through


def Day(**kwargs: Any) -> fields.Date:
    # x-minimum/x-maximum (from DATES) are not JSON Schema; the year pattern states the same range in a
    # form clients and validators enforce: every date of the years 2000-2100 lies inside DATES
    metadata = {"pattern": r"^(20[0-9]{2}|2100)-", **kwargs.pop("metadata", {})}
    return fields.Date(validate=DATES, metadata=metadata, **kwargs)


def Choice(allowed: tuple[str, ...], **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(allowed), **kwargs)


# --- request bodies -------------------------------------------------------------------------------------


class CommitteeCreateSchema(StrictSchema):
    kind = Choice(KINDS, required=True)
    name_th = Text(300, required=True)
    name_en = Text(300)
    school_code = Code(load_default=None, metadata={"description": "a school board's school"})
    cluster_id = Code(load_default=None, metadata={"description": "a network committee's cluster"})
    seats = fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(1, MAX_MEMBER_RECORDS),
        metadata={"description": "network committees only; a board's seats follow its school's students"},
    )
    established_date = Day(required=True)


class MemberAppointSchema(StrictSchema):
    name = Text(200, required=True)
    stakeholder_group = Choice(STAKEHOLDER_GROUPS, required=True)
    role = Choice(MEMBER_ROLES, required=True)
    term_start = Day(required=True)
    term_end = Day(required=True)
    account = Text(
        100, load_default=None, metadata={"description": "the `sub` of the member's sign-in token, if any"}
    )


class EndTermSchema(StrictSchema):
    end_date = Day(metadata={"description": "defaults to today (Thailand)"})
    reason = Text(500)


class MeetingScheduleSchema(StrictSchema):
    meeting_date = Day(required=True)
    agenda = fields.List(Text(500), required=True, validate=validate.Length(min=1, max=MAX_AGENDA_ITEMS))
    location = Text(300)
    mode = Text(100, metadata={"description": "e.g. onsite, online"})


class MeetingHoldSchema(StrictSchema):
    attendance = fields.Dict(
        keys=Code(),
        values=Choice(ATTENDANCE),
        required=True,
        validate=validate.Length(min=1, max=MAX_MEMBER_RECORDS),
        metadata={
            "description": "member_id -> present | absent | excused, for every current member",
            "minProperties": 1,
            "maxProperties": MAX_MEMBER_RECORDS,
        },
    )
    minutes = Text(MAX_TEXT)


class MeetingCancelSchema(StrictSchema):
    reason = Text(500)


class MinutesSchema(StrictSchema):
    minutes = Text(MAX_TEXT, required=True)


VOTE = fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_MEMBER_RECORDS))
VotesSchema = StrictSchema.from_dict({"for": VOTE, "against": VOTE, "abstain": VOTE}, name="VotesSchema")


class ResolutionCreateSchema(StrictSchema):
    title = Text(300, required=True)
    text = Text(MAX_TEXT, required=True)
    votes = fields.Nested(
        VotesSchema, metadata={"description": "sum ≤ members present; omit when not counted"}
    )


class OwnerSchema(StrictSchema):
    kind = Choice(OWNER_KINDS, required=True)
    id = Code(required=True, metadata={"description": "a member_id or a school_code"})


class ActionItemCreateSchema(StrictSchema):
    description = Text(2000, required=True)
    owner = fields.Nested(OwnerSchema, required=True)
    due_date = Day(required=True)


class ProgressNoteSchema(StrictSchema):
    note = Text(2000, required=True)
    percent_done = fields.Integer(strict=True, load_default=None, validate=validate.Range(0, 100))


class ActionItemCompleteSchema(StrictSchema):
    completed_date = Day(metadata={"description": "defaults to today (Thailand)"})
    note = Text(2000)


# --- list queries ---------------------------------------------------------------------------------------


class CommitteeQuerySchema(OrgFilterSchema):
    kind = Choice(KINDS)


class MeetingQuerySchema(OrgFilterSchema):
    status = Choice(MEETING_STATUSES)


class ResolutionQuerySchema(OrgFilterSchema):
    committee_id = Code()
    meeting_id = Code()


class ActionItemQuerySchema(OrgFilterSchema):
    status = Choice(ACTION_ITEM_STATUSES)
    committee_id = Code()
    resolution_id = Code()


# --- responses ------------------------------------------------------------------------------------------


class MemberSchema(Schema):
    id = fields.String()
    name = fields.String()
    stakeholder_group = fields.String()
    role = fields.String()
    term_start = fields.Date()
    term_end = fields.Date()
    account = fields.String(allow_none=True)
    ended_early = fields.Boolean()
    end_reason = fields.String()
    current = fields.Function(lambda m: m.current_on(today()), metadata={"description": "holds a seat today"})


def _as_dict(entity: Any) -> dict[str, Any]:
    return {f.name: getattr(entity, f.name) for f in dataclass_fields(entity)}


class CommitteeSchema(EntitySchema):
    kind = fields.String()
    name_th = fields.String()
    name_en = fields.String()
    school_code = fields.String(allow_none=True)
    cluster_id = fields.String(allow_none=True)
    seats = fields.Integer()
    established_date = fields.Date()
    created_by = fields.String()
    members = fields.List(fields.Nested(MemberSchema), metadata={"description": "past terms included"})
    current_members = fields.Integer(metadata={"description": "members holding a seat today"})
    vacancies = fields.Integer(metadata={"description": "seats − current members today"})
    chair = fields.Nested(MemberSchema, allow_none=True)
    secretary = fields.Nested(MemberSchema, allow_none=True)

    @pre_dump
    def _today(self, committee: Committee, **_: Any) -> dict[str, Any]:
        day = today()
        return {
            **_as_dict(committee),
            "current_members": len(committee.current_members(day)),
            "vacancies": committee.vacancies(day),
            "chair": committee.holder(CHAIR, day),
            "secretary": committee.holder(SECRETARY, day),
        }


class AttendanceSchema(Schema):
    member_id = fields.String()
    stakeholder_group = fields.String()
    status = fields.String()


class MeetingSchema(EntitySchema):
    committee_id = fields.String()
    committee_kind = fields.String()
    meeting_date = fields.Date()
    agenda = fields.List(fields.String())
    location = fields.String()
    mode = fields.String()
    status = fields.String()
    scheduled_by = fields.String()
    attendance = fields.List(fields.Nested(AttendanceSchema))
    members_total = fields.Integer()
    present = fields.Integer()
    quorum_required = fields.Integer()
    quorum_reached = fields.Boolean()
    minutes = fields.String()
    minutes_recorded_date = fields.Date(allow_none=True)
    cancel_reason = fields.String()


class ResolutionSchema(EntitySchema):
    meeting_id = fields.String()
    committee_id = fields.String()
    committee_kind = fields.String()
    adopted_date = fields.Date()
    title = fields.String()
    text = fields.String()
    votes = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True)
    adopted_by = fields.String()


class ProgressNoteOutSchema(Schema):
    date = fields.Date()
    by = fields.String()
    text = fields.String()
    percent = fields.Integer(allow_none=True)


class OwnerOutSchema(Schema):
    kind = fields.String()
    id = fields.String()
    name = fields.String()


class ActionItemSchema(EntitySchema):
    resolution_id = fields.String()
    meeting_id = fields.String()
    committee_id = fields.String()
    committee_kind = fields.String()
    description = fields.String()
    owner = fields.Nested(OwnerOutSchema)
    due_date = fields.Date()
    status = fields.String()
    notes = fields.List(fields.Nested(ProgressNoteOutSchema))
    percent_done = fields.Integer(allow_none=True)
    completed_date = fields.Date(allow_none=True)
    was_overdue = fields.Boolean()

    @pre_dump
    def _owner(self, item: ActionItem, **_: Any) -> dict[str, Any]:
        owner = {"kind": item.owner_kind, "id": item.owner_id, "name": item.owner_name}
        return {**_as_dict(item), "owner": owner, "percent_done": item.percent_done}


class LabelSchema(Schema):
    code = fields.String()
    name_th = fields.String()
    name_en = fields.String()


class SeatBandSchema(Schema):
    max_students = fields.Integer(allow_none=True, metadata={"description": "null: any number"})
    seats = fields.Integer()


class NetworkSeatsSchema(Schema):
    min = fields.Integer()
    max = fields.Integer()


class QuorumSchema(Schema):
    share = fields.Float()
    strictly_more = fields.Boolean(metadata={"description": "true: present must exceed share × members"})


class RulesSchema(Schema):
    school_board_seats = fields.List(fields.Nested(SeatBandSchema))
    network_seats = fields.Nested(NetworkSeatsSchema)
    quorum = fields.Nested(QuorumSchema)
    source_th = fields.String()
    kinds = fields.List(fields.Nested(LabelSchema))
    stakeholder_groups = fields.List(fields.Nested(LabelSchema))
    community_groups = fields.List(fields.String())
    member_roles = fields.List(fields.Nested(LabelSchema))
    attendance = fields.List(fields.Nested(LabelSchema))


CommitteePageSchema = page_of(CommitteeSchema)
MeetingPageSchema = page_of(MeetingSchema)
ResolutionPageSchema = page_of(ResolutionSchema)
ActionItemPageSchema = page_of(ActionItemSchema)
