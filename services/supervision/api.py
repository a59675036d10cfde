"""The supervision HTTP API: schemas in, a command to a handler, the object back.

Writes answer 201 with the object (and its `version`), accept `Idempotency-Key`, and where they change an
existing object an `If-Match: <version>`. Reads never reach beyond the caller's org scope.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from services.supervision import handlers
from services.supervision.bootstrap import repository
from services.supervision.commands import (
    CancelVisit,
    CompleteFollowUp,
    CompleteVisit,
    CreatePlan,
    OpenFollowUp,
    RecordCoaching,
    RecordFinding,
    RecordPlc,
    ScheduleVisit,
)
from services.supervision.domain import (
    RUBRIC_DOMAINS,
    RUBRIC_LEVELS,
    CoachingSession,
    Finding,
    FollowUp,
    PlcSession,
    SupervisionPlan,
    Visit,
)
from services.supervision.schemas import (
    CoachingCreateSchema,
    CoachingPageSchema,
    CoachingQuerySchema,
    CoachingSchema,
    FindingCreateSchema,
    FindingPageSchema,
    FindingQuerySchema,
    FindingSchema,
    FollowUpCompleteSchema,
    FollowUpCreateSchema,
    FollowUpPageSchema,
    FollowUpQuerySchema,
    FollowUpSchema,
    PlanCreateSchema,
    PlanPageSchema,
    PlanSchema,
    PlcCreateSchema,
    PlcPageSchema,
    PlcSchema,
    RubricSchema,
    VisitCancelSchema,
    VisitCompleteSchema,
    VisitPageSchema,
    VisitQuerySchema,
    VisitScheduleSchema,
    VisitSchema,
)
from shared.calendar import today
from shared.schemas import OrgFilterSchema, VersionedWriteHeadersSchema, WriteHeadersSchema
from shared.web import documented_errors, idempotent, principal, request_context

blp = Blueprint(
    "supervision",
    __name__,
    url_prefix="/api/v1",
    description="Collaborative supervision / การนิเทศแบบร่วมมือ: plans, visits, coaching, PLC, findings, follow-ups",
)

# query strings too reject unknown parameters: a mistyped filter must not silently list everything
READ_ERRORS = (401, 403, 404)
CREATE_ERRORS = (401, 403, 409, 422)
CHANGE_ERRORS = (401, 403, 404, 409, 422)


# The POLICY action each endpoint performs (OpenAPI paths), for the authorization-matrix tests.
ENDPOINT_ACTIONS: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/plans"): "plan.read",
    ("POST", "/api/v1/plans"): "plan.create",
    ("GET", "/api/v1/plans/{plan_id}"): "plan.read",
    ("GET", "/api/v1/visits"): "visit.read",
    ("POST", "/api/v1/visits"): "visit.schedule",
    ("GET", "/api/v1/visits/{visit_id}"): "visit.read",
    ("POST", "/api/v1/visits/{visit_id}/complete"): "visit.complete",
    ("POST", "/api/v1/visits/{visit_id}/cancel"): "visit.cancel",
    ("POST", "/api/v1/visits/{visit_id}/findings"): "finding.record",
    ("GET", "/api/v1/coaching-sessions"): "coaching.read",
    ("POST", "/api/v1/coaching-sessions"): "coaching.record",
    ("GET", "/api/v1/coaching-sessions/{session_id}"): "coaching.read",
    ("GET", "/api/v1/plc-sessions"): "plc.read",
    ("POST", "/api/v1/plc-sessions"): "plc.record",
    ("GET", "/api/v1/plc-sessions/{session_id}"): "plc.read",
    ("GET", "/api/v1/findings"): "finding.read",
    ("GET", "/api/v1/findings/{finding_id}"): "finding.read",
    ("POST", "/api/v1/findings/{finding_id}/follow-ups"): "follow_up.open",
    ("GET", "/api/v1/follow-ups"): "follow_up.read",
    ("GET", "/api/v1/follow-ups/{follow_up_id}"): "follow_up.read",
    ("POST", "/api/v1/follow-ups/{follow_up_id}/complete"): "follow_up.complete",
}
PUBLIC_TO_CALLERS = {("GET", "/api/v1/rubric-domains")}  # reference data: any authenticated caller


errors = partial(documented_errors, blp)  # the shared error responses a view can answer with


def _page(result: tuple[list[Any], int], args: dict[str, Any]) -> dict[str, Any]:
    items, total = result
    return {"items": items, "total": total, "page": args["page"], "page_size": args["page_size"]}


def _list(kind: type, args: dict[str, Any]) -> dict[str, Any]:
    return _page(handlers.list_of(kind, args, repository(), principal()), args)


def _get(kind: type, entity_id: str) -> Any:
    return handlers.get(kind, entity_id, repository(), principal())


@blp.route("/rubric-domains")
class Rubric(MethodView):
    @blp.response(200, RubricSchema)
    @errors(401)
    def get(self) -> dict[str, Any]:
        """The classroom-observation rubric: domains (Thai and English) and the four score levels."""
        return {"domains": RUBRIC_DOMAINS, "levels": {str(k): list(v) for k, v in RUBRIC_LEVELS.items()}}


@blp.route("/plans")
class Plans(MethodView):
    @blp.arguments(OrgFilterSchema, location="query", unknown=RAISE)
    @blp.response(200, PlanPageSchema)
    @errors(401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Supervision plans in the caller's scope, by ESA area, province and semester."""
        return _list(SupervisionPlan, args)

    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.arguments(PlanCreateSchema)
    @blp.response(201, PlanSchema)
    @errors(*CREATE_ERRORS)
    def post(self, _headers: dict[str, Any], body: dict[str, Any]) -> SupervisionPlan:
        """Create an ESA area's plan for a semester: its target schools (all in one area) and focus areas."""
        return handlers.create_plan(CreatePlan(**body), repository(), request_context())


@blp.route("/plans/<string:plan_id>")
class PlanById(MethodView):
    @blp.response(200, PlanSchema)
    @errors(*READ_ERRORS)
    def get(self, plan_id: str) -> SupervisionPlan:
        """One plan."""
        return _get(SupervisionPlan, plan_id)


@blp.route("/visits")
class Visits(MethodView):
    @blp.arguments(VisitQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, VisitPageSchema)
    @errors(401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Visits in the caller's scope, by school, cluster, ESA area, province, semester and status."""
        return _list(Visit, args)

    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.arguments(VisitScheduleSchema)
    @blp.response(201, VisitSchema)
    @errors(*CREATE_ERRORS)
    def post(self, _headers: dict[str, Any], body: dict[str, Any]) -> Visit:
        """Schedule a classroom-observation visit to a school (onsite or online), optionally under a plan."""
        return handlers.schedule_visit(ScheduleVisit(**body), repository(), request_context())


@blp.route("/visits/<string:visit_id>")
class VisitById(MethodView):
    @blp.response(200, VisitSchema)
    @errors(*READ_ERRORS)
    def get(self, visit_id: str) -> Visit:
        """One visit."""
        return _get(Visit, visit_id)


@blp.route("/visits/<string:visit_id>/complete")
class VisitCompletion(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(VisitCompleteSchema)
    @blp.response(201, VisitSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, headers: dict[str, Any], body: dict[str, Any], visit_id: str) -> Visit:
        """Complete a scheduled visit with its rubric scores (1-4 per domain) and the teachers observed."""
        cmd = CompleteVisit(visit_id=visit_id, expected_version=headers["expected_version"], **body)
        return handlers.complete_visit(cmd, repository(), request_context())


@blp.route("/visits/<string:visit_id>/cancel")
class VisitCancellation(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(VisitCancelSchema)
    @blp.response(201, VisitSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, headers: dict[str, Any], body: dict[str, Any], visit_id: str) -> Visit:
        """Cancel a scheduled visit."""
        cmd = CancelVisit(visit_id=visit_id, expected_version=headers["expected_version"], **body)
        return handlers.cancel_visit(cmd, repository(), request_context())


@blp.route("/visits/<string:visit_id>/findings")
class VisitFindings(MethodView):
    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.arguments(FindingCreateSchema)
    @blp.response(201, FindingSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, _headers: dict[str, Any], body: dict[str, Any], visit_id: str) -> Finding:
        """Record a finding of a completed visit in one rubric domain, with a recommendation."""
        return handlers.record_finding(
            RecordFinding(visit_id=visit_id, **body), repository(), request_context()
        )


@blp.route("/coaching-sessions")
class CoachingSessions(MethodView):
    @blp.arguments(CoachingQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, CoachingPageSchema)
    @errors(401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Coaching and mentoring sessions in the caller's scope."""
        return _list(CoachingSession, args)

    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.arguments(CoachingCreateSchema)
    @blp.response(201, CoachingSchema)
    @errors(*CREATE_ERRORS)
    def post(self, _headers: dict[str, Any], body: dict[str, Any]) -> CoachingSession:
        """Record a coaching or mentoring session with teachers of one school."""
        return handlers.record_coaching(RecordCoaching(**body), repository(), request_context())


@blp.route("/coaching-sessions/<string:session_id>")
class CoachingById(MethodView):
    @blp.response(200, CoachingSchema)
    @errors(*READ_ERRORS)
    def get(self, session_id: str) -> CoachingSession:
        """One coaching or mentoring session."""
        return _get(CoachingSession, session_id)


@blp.route("/plc-sessions")
class PlcSessions(MethodView):
    @blp.arguments(OrgFilterSchema, location="query", unknown=RAISE)
    @blp.response(200, PlcPageSchema)
    @errors(401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """PLC sessions in the caller's scope (`school_code` finds the sessions a school took part in)."""
        return _list(PlcSession, args)

    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.arguments(PlcCreateSchema)
    @blp.response(201, PlcSchema)
    @errors(*CREATE_ERRORS)
    def post(self, _headers: dict[str, Any], body: dict[str, Any]) -> PlcSession:
        """Record a cluster's PLC session bringing together teachers of several of its schools."""
        return handlers.record_plc(RecordPlc(**body), repository(), request_context())


@blp.route("/plc-sessions/<string:session_id>")
class PlcById(MethodView):
    @blp.response(200, PlcSchema)
    @errors(*READ_ERRORS)
    def get(self, session_id: str) -> PlcSession:
        """One PLC session."""
        return _get(PlcSession, session_id)


@blp.route("/findings")
class Findings(MethodView):
    @blp.arguments(FindingQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, FindingPageSchema)
    @errors(401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Findings in the caller's scope."""
        return _list(Finding, args)


@blp.route("/findings/<string:finding_id>")
class FindingById(MethodView):
    @blp.response(200, FindingSchema)
    @errors(*READ_ERRORS)
    def get(self, finding_id: str) -> Finding:
        """One finding."""
        return _get(Finding, finding_id)


@blp.route("/findings/<string:finding_id>/follow-ups")
class FindingFollowUps(MethodView):
    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.arguments(FollowUpCreateSchema)
    @blp.response(201, FollowUpSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, _headers: dict[str, Any], body: dict[str, Any], finding_id: str) -> FollowUp:
        """Open a follow-up action on a finding: who, what, and by when."""
        return handlers.open_follow_up(
            OpenFollowUp(finding_id=finding_id, **body), repository(), request_context()
        )


@blp.route("/follow-ups")
class FollowUps(MethodView):
    @blp.arguments(FollowUpQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, FollowUpPageSchema)
    @errors(401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Follow-ups in the caller's scope, by status (open, overdue, completed)."""
        return _list(FollowUp, args)


@blp.route("/follow-ups/<string:follow_up_id>")
class FollowUpById(MethodView):
    @blp.response(200, FollowUpSchema)
    @errors(*READ_ERRORS)
    def get(self, follow_up_id: str) -> FollowUp:
        """One follow-up."""
        return _get(FollowUp, follow_up_id)


@blp.route("/follow-ups/<string:follow_up_id>/complete")
class FollowUpCompletion(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(FollowUpCompleteSchema)
    @blp.response(201, FollowUpSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, headers: dict[str, Any], body: dict[str, Any], follow_up_id: str) -> FollowUp:
        """Complete an open or overdue follow-up (a school director may complete their school's)."""
        cmd = CompleteFollowUp(
            follow_up_id=follow_up_id,
            completed_date=body.get("completed_date") or today(),
            note=body.get("note", ""),
            expected_version=headers["expected_version"],
        )
        return handlers.complete_follow_up(cmd, repository(), request_context())
