"""Community-engaged committee events (`committee.events`). Every payload carries the activity's period.

A committee is a school board (คณะกรรมการสถานศึกษาขั้นพื้นฐาน, org = its school) or a network committee of a
cluster (org = the cluster, no school). Meetings count in the semester of their date; a resolution and its
action items count in the semester of the meeting that adopted it, for their whole life, so open and overdue
tallies always return to zero.
"""

from __future__ import annotations

from marshmallow import fields, validate

from shared.catalog import catalog
from shared.catalog.common import Payload, Period, code

KINDS = ("school_board", "network")
STAKEHOLDER_GROUPS = (
    "school_director",
    "teacher",
    "parent",
    "community_leader",
    "religious_leader",
    "local_government",
    "alumni",
    "student",
    "esao_representative",
)
# the groups whose presence is "community participation"
COMMUNITY_GROUPS = ("parent", "community_leader", "religious_leader", "local_government")
MEMBER_ROLES = ("chair", "secretary", "member")
ATTENDANCE = ("present", "absent", "excused")
OWNER_KINDS = ("member", "school")


class WithPeriod(Payload):
    period = fields.Nested(Period, required=True)


class CommitteeEstablished(WithPeriod):
    committee_id = code(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    name_th = fields.String(required=True)
    name_en = fields.String(load_default="")
    school_code = code(required=True, allow_none=True)
    cluster_id = code(required=True, allow_none=True)
    seats = fields.Integer(required=True, validate=validate.Range(min=1))
    established_date = fields.Date(required=True)


class MemberAppointed(WithPeriod):
    committee_id = code(required=True)
    member_id = code(required=True)
    stakeholder_group = fields.String(required=True, validate=validate.OneOf(STAKEHOLDER_GROUPS))
    role = fields.String(required=True, validate=validate.OneOf(MEMBER_ROLES))
    term_start = fields.Date(required=True)
    term_end = fields.Date(required=True)


class MemberTermEnded(WithPeriod):
    committee_id = code(required=True)
    member_id = code(required=True)
    end_date = fields.Date(required=True)
    reason = fields.String(load_default="")


class MeetingScheduled(WithPeriod):
    meeting_id = code(required=True)
    committee_id = code(required=True)
    meeting_date = fields.Date(required=True)
    agenda = fields.List(fields.String(), required=True)


class Attendance(Payload):
    member_id = code(required=True)
    stakeholder_group = fields.String(required=True, validate=validate.OneOf(STAKEHOLDER_GROUPS))
    status = fields.String(required=True, validate=validate.OneOf(ATTENDANCE))


class MeetingHeld(WithPeriod):
    meeting_id = code(required=True)
    committee_id = code(required=True)
    committee_kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    meeting_date = fields.Date(required=True)
    members_total = fields.Integer(required=True, validate=validate.Range(min=1))
    quorum_required = fields.Integer(required=True, validate=validate.Range(min=1))
    quorum_reached = fields.Boolean(required=True)
    attendance = fields.List(fields.Nested(Attendance), required=True)


class MeetingCancelled(WithPeriod):
    meeting_id = code(required=True)
    committee_id = code(required=True)
    meeting_date = fields.Date(required=True)
    reason = fields.String(load_default="")


class MinutesRecorded(WithPeriod):
    meeting_id = code(required=True)
    committee_id = code(required=True)
    recorded_date = fields.Date(required=True)


class ResolutionAdopted(WithPeriod):
    resolution_id = code(required=True)
    meeting_id = code(required=True)
    committee_id = code(required=True)
    adopted_date = fields.Date(required=True)
    title = fields.String(required=True)


class ActionItemCreated(WithPeriod):
    action_item_id = code(required=True)
    resolution_id = code(required=True)
    committee_id = code(required=True)
    owner_kind = fields.String(required=True, validate=validate.OneOf(OWNER_KINDS))
    owner_id = code(required=True)
    due_date = fields.Date(required=True)


class ActionItemProgressNoted(WithPeriod):
    action_item_id = code(required=True)
    committee_id = code(required=True)
    noted_date = fields.Date(required=True)
    percent_done = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 100))


class ActionItemOverdue(WithPeriod):
    action_item_id = code(required=True)
    committee_id = code(required=True)
    due_date = fields.Date(required=True)


class ActionItemCompleted(WithPeriod):
    action_item_id = code(required=True)
    committee_id = code(required=True)
    completed_date = fields.Date(required=True)
    was_overdue = fields.Boolean(required=True)


for _name, _schema in {
    "CommitteeEstablished": CommitteeEstablished,
    "MemberAppointed": MemberAppointed,
    "MemberTermEnded": MemberTermEnded,
    "MeetingScheduled": MeetingScheduled,
    "MeetingHeld": MeetingHeld,
    "MeetingCancelled": MeetingCancelled,
    "MinutesRecorded": MinutesRecorded,
    "ResolutionAdopted": ResolutionAdopted,
    "ActionItemCreated": ActionItemCreated,
    "ActionItemProgressNoted": ActionItemProgressNoted,
    "ActionItemOverdue": ActionItemOverdue,
    "ActionItemCompleted": ActionItemCompleted,
}.items():
    catalog.register(f"committee.{_name}", 1, _schema)
