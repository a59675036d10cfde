"""The committee HTTP API: schemas in, a command to a handler, the object back.

Writes answer 201 with the object (and its `version`), accept `Idempotency-Key`, and where they change an
existing object an `If-Match: <version>`. Reads never reach beyond what the caller may read (see
`handlers.POLICY`); an object the caller may not read answers 404, a write the caller may not do on an
object they can read answers 403.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from services.committee import handlers
from services.committee.bootstrap import repository
from services.committee.commands import (
    AdoptResolution,
    AppointMember,
    CancelMeeting,
    CompleteActionItem,
    CreateActionItem,
    EndTerm,
    EstablishCommittee,
    HoldMeeting,
    NoteProgress,
    RecordMinutes,
    ScheduleMeeting,
)
from services.committee.domain import (
    ATTENDANCE_LABELS,
    KIND_LABELS,
    ROLE_LABELS,
    STAKEHOLDER_LABELS,
    ActionItem,
    Committee,
    Meeting,
    Resolution,
)
from services.committee.schemas import (
    ActionItemCompleteSchema,
    ActionItemCreateSchema,
    ActionItemPageSchema,
    ActionItemQuerySchema,
    ActionItemSchema,
    CommitteeCreateSchema,
    CommitteePageSchema,
    CommitteeQuerySchema,
    CommitteeSchema,
    EndTermSchema,
    MeetingCancelSchema,
    MeetingHoldSchema,
    MeetingPageSchema,
    MeetingQuerySchema,
    MeetingScheduleSchema,
    MeetingSchema,
    MemberAppointSchema,
    MinutesSchema,
    ProgressNoteSchema,
    ResolutionCreateSchema,
    ResolutionPageSchema,
    ResolutionQuerySchema,
    ResolutionSchema,
    RulesSchema,
)
from shared.calendar import today
from shared.catalog.committee import COMMUNITY_GROUPS
from shared.schemas import VersionedWriteHeadersSchema, WriteHeadersSchema
from shared.web import documented_errors, idempotent, principal, request_context

blp = Blueprint(
    "committee",
    __name__,
    url_prefix="/api/v1",
    description="Committees / คณะกรรมการสถานศึกษาและเครือข่าย: members, meetings, resolutions, action items",
)

READ_ERRORS = (401, 403, 404)
CREATE_ERRORS = (401, 403, 409, 422)
CHANGE_ERRORS = (401, 403, 404, 409, 422)

# The POLICY action each endpoint performs (OpenAPI paths), for the authorization-matrix tests.
ENDPOINT_ACTIONS: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/committees"): "committee.read",
    ("POST", "/api/v1/committees"): "committee.create",
    ("GET", "/api/v1/committees/{committee_id}"): "committee.read",
    ("POST", "/api/v1/committees/{committee_id}/members"): "member.appoint",
    ("POST", "/api/v1/committees/{committee_id}/members/{member_id}/end-term"): "member.end_term",
    ("GET", "/api/v1/committees/{committee_id}/meetings"): "meeting.read",
    ("POST", "/api/v1/committees/{committee_id}/meetings"): "meeting.schedule",
    ("GET", "/api/v1/meetings/{meeting_id}"): "meeting.read",
    ("POST", "/api/v1/meetings/{meeting_id}/hold"): "meeting.hold",
    ("POST", "/api/v1/meetings/{meeting_id}/cancel"): "meeting.cancel",
    ("POST", "/api/v1/meetings/{meeting_id}/minutes"): "meeting.minutes",
    ("POST", "/api/v1/meetings/{meeting_id}/resolutions"): "resolution.adopt",
    ("GET", "/api/v1/resolutions"): "resolution.read",
    ("GET", "/api/v1/resolutions/{resolution_id}"): "resolution.read",
    ("POST", "/api/v1/resolutions/{resolution_id}/action-items"): "action_item.create",
    ("GET", "/api/v1/action-items"): "action_item.read",
    ("GET", "/api/v1/action-items/{action_item_id}"): "action_item.read",
    ("POST", "/api/v1/action-items/{action_item_id}/notes"): "action_item.note",
    ("POST", "/api/v1/action-items/{action_item_id}/complete"): "action_item.complete",
}
PUBLIC_TO_CALLERS = {("GET", "/api/v1/committee-rules")}  # reference data: any authenticated caller


errors = partial(documented_errors, blp)  # the shared error responses a view can answer with


def _list(kind: type, args: dict[str, Any]) -> dict[str, Any]:
    items, total = handlers.list_of(kind, args, repository(), principal())
    return {"items": items, "total": total, "page": args["page"], "page_size": args["page_size"]}


def _get(kind: type, entity_id: str) -> Any:
    return handlers.get(kind, entity_id, repository(), principal())


def _labels(labels: dict[str, tuple[str, str]]) -> list[dict[str, str]]:
    return [{"code": code, "name_th": th, "name_en": en} for code, (th, en) in labels.items()]


@blp.route("/committee-rules")
class Rules(MethodView):
    @blp.response(200, RulesSchema)
    @errors(401)
    def get(self) -> dict[str, Any]:
        """Seats and quorum rules (data, by regulation), and the Thai and English names of kinds,
        stakeholder groups (กลุ่มผู้แทน), member roles and attendance statuses."""
        return {
            **handlers.rules_view(),
            "kinds": _labels(KIND_LABELS),
            "stakeholder_groups": _labels(STAKEHOLDER_LABELS),
            "community_groups": list(COMMUNITY_GROUPS),
            "member_roles": _labels(ROLE_LABELS),
            "attendance": _labels(ATTENDANCE_LABELS),
        }


@blp.route("/committees")
class Committees(MethodView):
    @blp.arguments(CommitteeQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, CommitteePageSchema)
    @errors(401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Committees the caller may read (by role and scope, or by holding a seat), by unit, period, kind."""
        return _list(Committee, args)

    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.arguments(CommitteeCreateSchema)
    @blp.response(201, CommitteeSchema)
    @errors(*CREATE_ERRORS)
    def post(self, _headers: dict[str, Any], body: dict[str, Any]) -> Committee:
        """Establish a school board (คณะกรรมการสถานศึกษาขั้นพื้นฐาน; seats follow the school's students) or a
        cluster's network committee (คณะกรรมการเครือข่าย; seats given). One per school / cluster: else 409."""
        return handlers.establish_committee(EstablishCommittee(**body), repository(), request_context())


@blp.route("/committees/<string:committee_id>")
class CommitteeById(MethodView):
    @blp.response(200, CommitteeSchema)
    @errors(*READ_ERRORS)
    def get(self, committee_id: str) -> Committee:
        """One committee with its members, vacancies today and current chair and secretary."""
        return _get(Committee, committee_id)


@blp.route("/committees/<string:committee_id>/members")
class CommitteeMembers(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(MemberAppointSchema)
    @blp.response(201, CommitteeSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, headers: dict[str, Any], body: dict[str, Any], committee_id: str) -> Committee:
        """Appoint a member (แต่งตั้งกรรมการ) for a term; answers the committee. Seats, one chair and one
        secretary at a time, and one seat per account are checked over the whole term."""
        cmd = AppointMember(committee_id=committee_id, expected_version=headers["expected_version"], **body)
        return handlers.appoint_member(cmd, repository(), request_context())


@blp.route("/committees/<string:committee_id>/members/<string:member_id>/end-term")
class MemberTermEnd(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(EndTermSchema)
    @blp.response(201, CommitteeSchema)
    @errors(*CHANGE_ERRORS)
    def post(
        self, headers: dict[str, Any], body: dict[str, Any], committee_id: str, member_id: str
    ) -> Committee:
        """End a member's term early (พ้นจากตำแหน่ง); answers the committee."""
        cmd = EndTerm(
            committee_id=committee_id,
            member_id=member_id,
            end_date=body.get("end_date") or today(),
            reason=body.get("reason", ""),
            expected_version=headers["expected_version"],
        )
        return handlers.end_term(cmd, repository(), request_context())


@blp.route("/committees/<string:committee_id>/meetings")
class CommitteeMeetings(MethodView):
    @blp.arguments(MeetingQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, MeetingPageSchema)
    @errors(*READ_ERRORS)
    def get(self, args: dict[str, Any], committee_id: str) -> dict[str, Any]:
        """A committee's meetings, newest first, by period and status."""
        _get(Committee, committee_id)  # 404 when the caller may not read the committee
        return _list(Meeting, {**args, "committee_id": committee_id})

    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.arguments(MeetingScheduleSchema)
    @blp.response(201, MeetingSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, _headers: dict[str, Any], body: dict[str, Any], committee_id: str) -> Meeting:
        """Schedule a meeting (นัดประชุม) with its agenda (1-30 items)."""
        return handlers.schedule_meeting(
            ScheduleMeeting(committee_id=committee_id, **body), repository(), request_context()
        )


@blp.route("/meetings/<string:meeting_id>")
class MeetingById(MethodView):
    @blp.response(200, MeetingSchema)
    @errors(*READ_ERRORS)
    def get(self, meeting_id: str) -> Meeting:
        """One meeting with its attendance and quorum figures."""
        return _get(Meeting, meeting_id)


@blp.route("/meetings/<string:meeting_id>/hold")
class MeetingHolding(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(MeetingHoldSchema)
    @blp.response(201, MeetingSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, headers: dict[str, Any], body: dict[str, Any], meeting_id: str) -> Meeting:
        """Record that a scheduled meeting was held (on or before today), with the attendance of every member
        current on its date; answers the quorum figures (องค์ประชุม)."""
        cmd = HoldMeeting(meeting_id=meeting_id, expected_version=headers["expected_version"], **body)
        return handlers.hold_meeting(cmd, repository(), request_context())


@blp.route("/meetings/<string:meeting_id>/cancel")
class MeetingCancellation(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(MeetingCancelSchema)
    @blp.response(201, MeetingSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, headers: dict[str, Any], body: dict[str, Any], meeting_id: str) -> Meeting:
        """Cancel a scheduled meeting."""
        cmd = CancelMeeting(meeting_id=meeting_id, expected_version=headers["expected_version"], **body)
        return handlers.cancel_meeting(cmd, repository(), request_context())


@blp.route("/meetings/<string:meeting_id>/minutes")
class MeetingMinutes(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(MinutesSchema)
    @blp.response(201, MeetingSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, headers: dict[str, Any], body: dict[str, Any], meeting_id: str) -> Meeting:
        """Record or replace the minutes (รายงานการประชุม) of a held meeting."""
        cmd = RecordMinutes(meeting_id=meeting_id, expected_version=headers["expected_version"], **body)
        return handlers.record_minutes(cmd, repository(), request_context())


@blp.route("/meetings/<string:meeting_id>/resolutions")
class MeetingResolutions(MethodView):
    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.arguments(ResolutionCreateSchema)
    @blp.response(201, ResolutionSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, _headers: dict[str, Any], body: dict[str, Any], meeting_id: str) -> Resolution:
        """Adopt a resolution (มติที่ประชุม) at a held meeting that reached quorum (else 409)."""
        cmd = AdoptResolution(meeting_id=meeting_id, **body)
        return handlers.adopt_resolution(cmd, repository(), request_context())


@blp.route("/resolutions")
class Resolutions(MethodView):
    @blp.arguments(ResolutionQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, ResolutionPageSchema)
    @errors(401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Resolutions the caller may read, by unit, period, committee and meeting."""
        return _list(Resolution, args)


@blp.route("/resolutions/<string:resolution_id>")
class ResolutionById(MethodView):
    @blp.response(200, ResolutionSchema)
    @errors(*READ_ERRORS)
    def get(self, resolution_id: str) -> Resolution:
        """One resolution."""
        return _get(Resolution, resolution_id)


@blp.route("/resolutions/<string:resolution_id>/action-items")
class ResolutionActionItems(MethodView):
    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.arguments(ActionItemCreateSchema)
    @blp.response(201, ActionItemSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, _headers: dict[str, Any], body: dict[str, Any], resolution_id: str) -> ActionItem:
        """Create an action item of a resolution: owned by a current member or by a school of the committee's
        unit, due on or after the resolution."""
        owner = body["owner"]
        cmd = CreateActionItem(
            resolution_id=resolution_id,
            description=body["description"],
            owner_kind=owner["kind"],
            owner_id=owner["id"],
            due_date=body["due_date"],
        )
        return handlers.create_action_item(cmd, repository(), request_context())


@blp.route("/action-items")
class ActionItems(MethodView):
    @blp.arguments(ActionItemQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, ActionItemPageSchema)
    @errors(401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Action items the caller may read or owns, due first, by status (open, overdue, done)."""
        return _list(ActionItem, args)


@blp.route("/action-items/<string:action_item_id>")
class ActionItemById(MethodView):
    @blp.response(200, ActionItemSchema)
    @errors(*READ_ERRORS)
    def get(self, action_item_id: str) -> ActionItem:
        """One action item with its progress notes."""
        return _get(ActionItem, action_item_id)


@blp.route("/action-items/<string:action_item_id>/notes")
class ActionItemNotes(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(ProgressNoteSchema)
    @blp.response(201, ActionItemSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, headers: dict[str, Any], body: dict[str, Any], action_item_id: str) -> ActionItem:
        """Note progress on an open or overdue action item (managers or its owner)."""
        cmd = NoteProgress(
            action_item_id=action_item_id, expected_version=headers["expected_version"], **body
        )
        return handlers.note_progress(cmd, repository(), request_context())


@blp.route("/action-items/<string:action_item_id>/complete")
class ActionItemCompletion(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(ActionItemCompleteSchema)
    @blp.response(201, ActionItemSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, headers: dict[str, Any], body: dict[str, Any], action_item_id: str) -> ActionItem:
        """Complete an open or overdue action item (managers or its owner)."""
        cmd = CompleteActionItem(
            action_item_id=action_item_id,
            completed_date=body.get("completed_date") or today(),
            note=body.get("note", ""),
            expected_version=headers["expected_version"],
        )
        return handlers.complete_action_item(cmd, repository(), request_context())
