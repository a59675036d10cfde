"""The training HTTP API: schemas in, a command to a handler, the object back.

Writes answer 201 with the object (and its `version`), accept `Idempotency-Key`, and where they change an
existing object an `If-Match: <version>` (for sessions and the roster: the programme's version). Reads never
reach beyond the caller's org scope.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE
from werkzeug.exceptions import UnsupportedMediaType

from services.training import certificates, handlers
from services.training.bootstrap import repository
from services.training.commands import (
    AssessCompletion,
    CancelSession,
    ChangeProgrammeStatus,
    CreateProgramme,
    Enrol,
    RecordAttendance,
    RescheduleSession,
    ScheduleSession,
    Withdraw,
)
from services.training.domain import Attendance, Completion, Enrolment, Programme, Session
from services.training.schemas import (
    ATTENDANCE_REPORT_BODY,
    AttendanceCreateSchema,
    AttendanceImportSchema,
    AttendancePageSchema,
    AttendanceQuerySchema,
    AttendanceSchema,
    CertificateVerificationSchema,
    CompletionCreateSchema,
    CompletionPageSchema,
    CompletionQuerySchema,
    CompletionSchema,
    EnrolmentCreateSchema,
    EnrolmentPageSchema,
    EnrolmentSchema,
    PdHoursQuerySchema,
    PdHoursSchema,
    ProgrammeChangeSchema,
    ProgrammeCreateSchema,
    ProgrammePageSchema,
    ProgrammeQuerySchema,
    ProgrammeSchema,
    RosterQuerySchema,
    SessionCancelSchema,
    SessionCreateSchema,
    SessionRescheduleSchema,
    SessionWriteSchema,
    WithdrawSchema,
)
from shared.schemas import VersionedWriteHeadersSchema, WriteHeadersSchema
from shared.web import documented_errors, idempotent, principal, request_context

blp = Blueprint(
    "training",
    __name__,
    url_prefix="/api/v1",
    description="Hybrid teacher training / การพัฒนาครูแบบผสมผสาน: programmes, sessions, enrolment, attendance, "
    "completion and PD hours",
)

READ_ERRORS = (401, 403, 404)
CREATE_ERRORS = (401, 403, 409, 422)
CHANGE_ERRORS = (401, 403, 404, 409, 422)

PROGRAMME = "/api/v1/programmes/{programme_id}"
SESSION = PROGRAMME + "/sessions/{session_id}"
# The POLICY action each endpoint performs (OpenAPI paths), for the authorization-matrix tests.
ENDPOINT_ACTIONS: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/programmes"): "programme.read",
    ("POST", "/api/v1/programmes"): "programme.create",
    ("GET", PROGRAMME): "programme.read",
    ("POST", PROGRAMME + "/publish"): "programme.publish",
    ("POST", PROGRAMME + "/close"): "programme.close",
    ("POST", PROGRAMME + "/sessions"): "session.schedule",
    ("POST", SESSION + "/reschedule"): "session.reschedule",
    ("POST", SESSION + "/cancel"): "session.cancel",
    ("GET", PROGRAMME + "/enrolments"): "enrolment.read",
    ("POST", PROGRAMME + "/enrolments"): "enrolment.create",
    ("POST", PROGRAMME + "/enrolments/{teacher_id}/withdraw"): "enrolment.withdraw",
    ("POST", PROGRAMME + "/attendance"): "attendance.record",
    ("GET", "/api/v1/attendance"): "attendance.read",
    ("GET", "/api/v1/attendance/{attendance_id}"): "attendance.read",
    ("POST", PROGRAMME + "/completions"): "completion.assess",
    ("GET", "/api/v1/completions"): "completion.read",
    ("GET", "/api/v1/completions/{completion_id}"): "completion.read",
    ("GET", "/api/v1/teachers/{teacher_id}/pd-hours"): "pd_hours.read",
    ("POST", SESSION + "/attendance-report"): "attendance.record",
    ("GET", "/api/v1/completions/{completion_id}/certificate.html"): "completion.read",
    ("GET", "/api/v1/completions/{completion_id}/certificate.pdf"): "completion.read",
}
VERIFY = "/api/v1/certificates/verify/{code}"
PUBLIC_TO_CALLERS: set[tuple[str, str]] = {("GET", VERIFY)}
# answered without a token (create_app passes them to shared.web): the verification page reveals only
# a certificate's name, programme and date
PUBLIC_ENDPOINTS = {"training.CertificateVerification"}


errors = partial(documented_errors, blp)  # the shared error responses a view can answer with


def _page(result: tuple[list[Any], int], args: dict[str, Any]) -> dict[str, Any]:
    items, total = result
    return {"items": items, "total": total, "page": args["page"], "page_size": args["page_size"]}


def _list(kind: type, args: dict[str, Any]) -> dict[str, Any]:
    return _page(handlers.list_of(kind, args, repository(), principal()), args)


def _get(kind: type, entity_id: str) -> Any:
    return handlers.get(kind, entity_id, repository(), principal())


def _enrolment(programme: Programme, enrolment: Enrolment) -> dict[str, Any]:
    return {"programme_id": programme.id, "programme_version": programme.version, **vars(enrolment)}


def _session(programme: Programme, session: Session) -> dict[str, Any]:
    return {"programme_id": programme.id, "programme_version": programme.version, "session": session}


@blp.route("/programmes")
class Programmes(MethodView):
    @blp.arguments(ProgrammeQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, ProgrammePageSchema)
    @errors(401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Programmes in the caller's scope; a school sees the published ones open to its teachers."""
        return _list(Programme, args)

    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.arguments(ProgrammeCreateSchema)
    @blp.response(201, ProgrammeSchema)
    @errors(*CREATE_ERRORS)
    def post(self, _headers: dict[str, Any], body: dict[str, Any]) -> Programme:
        """Create a draft programme hosted by an ESA area or a cluster, with its completion rule."""
        return handlers.create_programme(CreateProgramme(**body), repository(), request_context())


@blp.route("/programmes/<string:programme_id>")
class ProgrammeById(MethodView):
    @blp.response(200, ProgrammeSchema)
    @errors(*READ_ERRORS)
    def get(self, programme_id: str) -> Programme:
        """One programme with its sessions and seats per mode."""
        return _get(Programme, programme_id)


@blp.route("/programmes/<string:programme_id>/publish")
class ProgrammePublication(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(ProgrammeChangeSchema)
    @blp.response(201, ProgrammeSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, headers: dict[str, Any], _body: dict[str, Any], programme_id: str) -> Programme:
        """Publish a draft programme (it needs a session): teachers can enrol."""
        cmd = ChangeProgrammeStatus(programme_id, headers["expected_version"])
        return handlers.publish_programme(cmd, repository(), request_context())


@blp.route("/programmes/<string:programme_id>/close")
class ProgrammeClosing(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(ProgrammeChangeSchema)
    @blp.response(201, ProgrammeSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, headers: dict[str, Any], _body: dict[str, Any], programme_id: str) -> Programme:
        """Close a published programme: no more enrolment or attendance; completions can still be assessed."""
        cmd = ChangeProgrammeStatus(programme_id, headers["expected_version"])
        return handlers.close_programme(cmd, repository(), request_context())


@blp.route("/programmes/<string:programme_id>/sessions")
class ProgrammeSessions(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(SessionCreateSchema)
    @blp.response(201, SessionWriteSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, headers: dict[str, Any], body: dict[str, Any], programme_id: str) -> dict[str, Any]:
        """Schedule a session: onsite (venue), online (https meeting link) or hybrid (both), seats per mode."""
        cmd = ScheduleSession(programme_id=programme_id, expected_version=headers["expected_version"], **body)
        return _session(*handlers.schedule_session(cmd, repository(), request_context()))


@blp.route("/programmes/<string:programme_id>/sessions/<string:session_id>/reschedule")
class SessionRescheduling(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(SessionRescheduleSchema)
    @blp.response(201, SessionWriteSchema)
    @errors(*CHANGE_ERRORS)
    def post(
        self, headers: dict[str, Any], body: dict[str, Any], programme_id: str, session_id: str
    ) -> dict[str, Any]:
        """Move a session; the event names the enrolled teachers so they can be told."""
        cmd = RescheduleSession(
            programme_id, session_id, expected_version=headers["expected_version"], **body
        )
        programme = handlers.reschedule_session(cmd, repository(), request_context())
        return _session(programme, _found_session(programme, session_id))


@blp.route("/programmes/<string:programme_id>/sessions/<string:session_id>/cancel")
class SessionCancellation(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(SessionCancelSchema)
    @blp.response(201, SessionWriteSchema)
    @errors(*CHANGE_ERRORS)
    def post(
        self, headers: dict[str, Any], body: dict[str, Any], programme_id: str, session_id: str
    ) -> dict[str, Any]:
        """Cancel a session; the event names the enrolled teachers so they can be told."""
        cmd = CancelSession(programme_id, session_id, expected_version=headers["expected_version"], **body)
        programme = handlers.cancel_session(cmd, repository(), request_context())
        return _session(programme, _found_session(programme, session_id))


def _found_session(programme: Programme, session_id: str) -> Session:
    session = programme.session(session_id)
    assert session is not None  # the handler changed it
    return session


@blp.route("/programmes/<string:programme_id>/enrolments")
class ProgrammeEnrolments(MethodView):
    @blp.arguments(RosterQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, EnrolmentPageSchema)
    @errors(*READ_ERRORS)
    def get(self, args: dict[str, Any], programme_id: str) -> dict[str, Any]:
        """The roster in joining order, as far as the caller may see it (a teacher: themself)."""
        programme, items, total = handlers.roster(programme_id, args, repository(), principal())
        return _page(([_enrolment(programme, e) for e in items], total), args)

    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(EnrolmentCreateSchema)
    @blp.response(201, EnrolmentSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, headers: dict[str, Any], body: dict[str, Any], programme_id: str) -> dict[str, Any]:
        """Enrol a teacher (themself, by their director, or by the programme's managers); full → waitlist."""
        cmd = Enrol(programme_id=programme_id, expected_version=headers["expected_version"], **body)
        return _enrolment(*handlers.enrol(cmd, repository(), request_context()))


@blp.route("/programmes/<string:programme_id>/enrolments/<string:teacher_id>/withdraw")
class EnrolmentWithdrawal(MethodView):
    @idempotent
    @blp.arguments(VersionedWriteHeadersSchema, location="headers")
    @blp.arguments(WithdrawSchema)
    @blp.response(201, EnrolmentSchema)
    @errors(*CHANGE_ERRORS)
    def post(
        self, headers: dict[str, Any], _body: dict[str, Any], programme_id: str, teacher_id: str
    ) -> dict[str, Any]:
        """Withdraw a teacher; their seat goes to the first teacher waiting for that mode."""
        cmd = Withdraw(programme_id, teacher_id, headers["expected_version"])
        return _enrolment(*handlers.withdraw(cmd, repository(), request_context()))


@blp.route("/programmes/<string:programme_id>/attendance")
class ProgrammeAttendance(MethodView):
    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.arguments(AttendanceCreateSchema)
    @blp.response(201, AttendanceSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, _headers: dict[str, Any], body: dict[str, Any], programme_id: str) -> Attendance:
        """Record an enrolled teacher's minutes in a session, per mode (both modes count once: the larger)."""
        cmd = RecordAttendance(programme_id=programme_id, **body)
        return handlers.record_attendance(cmd, repository(), request_context())


@blp.route("/attendance")
class AttendanceList(MethodView):
    @blp.arguments(AttendanceQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, AttendancePageSchema)
    @errors(401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Attendance records in the caller's scope (a teacher: their own)."""
        return _list(Attendance, args)


@blp.route("/attendance/<string:attendance_id>")
class AttendanceById(MethodView):
    @blp.response(200, AttendanceSchema)
    @errors(*READ_ERRORS)
    def get(self, attendance_id: str) -> Attendance:
        """One attendance record."""
        return _get(Attendance, attendance_id)


@blp.route("/programmes/<string:programme_id>/completions")
class ProgrammeCompletions(MethodView):
    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.arguments(CompletionCreateSchema)
    @blp.response(201, CompletionSchema)
    @errors(*CHANGE_ERRORS)
    def post(self, _headers: dict[str, Any], body: dict[str, Any], programme_id: str) -> Completion:
        """Assess a teacher against the completion rule and credit the PD hours, once (409 after)."""
        cmd = AssessCompletion(programme_id=programme_id, **body)
        return handlers.assess_completion(cmd, repository(), request_context())


@blp.route("/completions")
class Completions(MethodView):
    @blp.arguments(CompletionQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, CompletionPageSchema)
    @errors(401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The PD-hours ledger in the caller's scope (a teacher: their own)."""
        return _list(Completion, args)


@blp.route("/completions/<string:completion_id>")
class CompletionById(MethodView):
    @blp.response(200, CompletionSchema)
    @errors(*READ_ERRORS)
    def get(self, completion_id: str) -> Completion:
        """One completion."""
        return _get(Completion, completion_id)


@blp.route("/teachers/<string:teacher_id>/pd-hours")
class TeacherPdHours(MethodView):
    @blp.arguments(PdHoursQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, PdHoursSchema)
    @errors(*READ_ERRORS)
    def get(self, args: dict[str, Any], teacher_id: str) -> dict[str, Any]:
        """A teacher's credited PD hours per academic year against the yearly target (default 20 h)."""
        return handlers.pd_hours(teacher_id, args.get("academic_year"), repository(), principal())


@blp.route("/programmes/<string:programme_id>/sessions/<string:session_id>/attendance-report")
class SessionAttendanceReport(MethodView):
    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.doc(requestBody=ATTENDANCE_REPORT_BODY)
    @blp.response(201, AttendanceImportSchema)
    @errors(*CHANGE_ERRORS, 413, 415)
    def post(self, _headers: dict[str, Any], programme_id: str, session_id: str) -> dict[str, Any]:
        """Import an online platform's participant report: the CSV is the request body (`text/csv`).

        Rows are matched to the programme's enrolled teachers by e-mail, else by exact name; each matched
        teacher's minutes (rejoins merged, capped at the session's length) are recorded as online attendance
        (onsite and online still count once). The answer lists minutes per teacher, the unmatched rows and
        the invalid rows with their line numbers. Importing the same report again changes nothing."""
        if request.mimetype != "text/csv":
            raise UnsupportedMediaType("send the report as the body, with Content-Type: text/csv")
        report = request.get_data(cache=True)
        return handlers.import_attendance_report(
            programme_id, session_id, report, repository(), request_context()
        )


def _verify_url(code: str) -> str:
    return url_for("training.CertificateVerification", code=code, _external=True)


@blp.route("/completions/<string:completion_id>/certificate.html")
class CompletionCertificateHtml(MethodView):
    @blp.response(
        200, {"type": "string"}, content_type="text/html", description="the certificate, Thai and English"
    )
    @errors(*READ_ERRORS)
    def get(self, completion_id: str) -> Response:
        """The completion's certificate as an HTML page, with its verification code and link."""
        cert = handlers.certificate(completion_id, repository(), principal())
        return Response(certificates.render_html(cert, _verify_url(cert.code)), mimetype="text/html")


@blp.route("/completions/<string:completion_id>/certificate.pdf")
class CompletionCertificatePdf(MethodView):
    @blp.response(
        200,
        {"type": "string", "format": "binary"},
        content_type="application/pdf",
        description="the certificate, Thai and English",
    )
    @errors(*READ_ERRORS, 503)
    def get(self, completion_id: str) -> Response:
        """The completion's certificate as a PDF (A4 landscape), with its verification code and link."""
        cert = handlers.certificate(completion_id, repository(), principal())
        response = Response(certificates.render_pdf(cert, _verify_url(cert.code)), mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'inline; filename="certificate-{completion_id}.pdf"'
        return response


@blp.route("/certificates/verify/<string:code>")
class CertificateVerification(MethodView):
    @blp.doc(security=[])
    @blp.response(200, CertificateVerificationSchema)
    @errors(404)
    def get(self, code: str) -> dict[str, Any]:
        """Public, no token: check a certificate's verification code. It reveals only the teacher's name, the
        programme and the date of completion; an unknown code answers 404 and nothing else."""
        return handlers.verify_certificate(code, repository())
