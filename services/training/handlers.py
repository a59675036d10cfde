"""The service layer: one plain function per command — load, authorize, decide, save.

Authorization is `shared.auth.authorize` against the role table `POLICY` and the object's org path. A
programme sits at its host's path (ESA area or cluster); attendance and completions at the teacher's school.
Teachers act and read only for themselves; school directors for their school's teachers. Reads of an object
outside the caller's scope answer 404 (its existence is not leaked); writes answer 403.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from services.training import attendance_report, certificates
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
from services.training.domain import (
    CERTIFICATE_CODE,
    CLOSED,
    DRAFT,
    ENROLLED,
    PUBLISHED,
    SCHEDULED,
    Attendance,
    Completion,
    Enrolment,
    InvalidTransition,
    Programme,
    RuleViolation,
    Session,
    Teacher,
    attendance_id,
    completion_id,
)
from services.training.events import Event
from services.training.repository import AbstractRepository, E
from shared.auth import Principal, authorize
from shared.envelope import Org
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.repository import encode
from shared.schemas import org_query
from shared.service_layer import Context, Producer, check_version, load
from shared.targets import pd_hours_target

SYSTEM_ACTOR = "system:training"
PRODUCER = Producer("training", SYSTEM_ACTOR, "services.training")
system_audit = PRODUCER.system_audit
ROSTER_ATTEMPTS = 3  # concurrent enrolments race for the programme's version: retry the loser

# Who may do what. `shared.auth.authorize` also lets "admin" do anything, and always checks the object's
# org path against the caller's scope: ESA training staff manage their area's programmes (cluster ones too),
# a cluster coordinator their cluster's; school directors and teachers act for their school / themselves.
MANAGERS = ("esa_officer", "cluster_coordinator")
SCHOOL_STAFF = ("school_director", "teacher")
READERS = (*MANAGERS, *SCHOOL_STAFF, "supervisor", "province_officer", "national_officer")
POLICY: dict[str, tuple[str, ...]] = {
    "programme.create": MANAGERS,
    "programme.publish": MANAGERS,
    "programme.close": MANAGERS,
    "programme.read": READERS,
    "session.schedule": MANAGERS,
    "session.reschedule": MANAGERS,
    "session.cancel": MANAGERS,
    "enrolment.create": (*MANAGERS, *SCHOOL_STAFF),
    "enrolment.withdraw": (*MANAGERS, *SCHOOL_STAFF),
    "enrolment.read": READERS,
    "attendance.record": MANAGERS,
    "attendance.read": READERS,
    "completion.assess": MANAGERS,
    "completion.read": READERS,
    "pd_hours.read": READERS,
}
READ_ACTION: dict[type, str] = {
    Programme: "programme.read",
    Attendance: "attendance.read",
    Completion: "completion.read",
}
LIST_FILTERS = ("status", "host_level", "programme_id", "session_id", "teacher_id")

Progress = Callable[[int, int], None]  # (teachers done, teachers in all)
IMPORT_MODE = "online"  # a platform's participant report is online attendance


# --- programmes -----------------------------------------------------------------------------------------


def create_programme(cmd: CreateProgramme, repo: AbstractRepository, ctx: Context) -> Programme:
    authorize(ctx.principal, POLICY["programme.create"])
    host = _host(repo, cmd.host_level, cmd.host_code)
    authorize(ctx.principal, POLICY["programme.create"], host)
    programme, events = Programme.create(cmd, host, ctx.principal.sub)
    PRODUCER.commit(repo, ctx, programme, events, "programme.create", before=None)
    return programme


def publish_programme(cmd: ChangeProgrammeStatus, repo: AbstractRepository, ctx: Context) -> Programme:
    return _change_programme(
        cmd.programme_id, cmd.expected_version, "programme.publish", repo, ctx, Programme.publish
    )


def close_programme(cmd: ChangeProgrammeStatus, repo: AbstractRepository, ctx: Context) -> Programme:
    return _change_programme(
        cmd.programme_id, cmd.expected_version, "programme.close", repo, ctx, Programme.close
    )


def schedule_session(
    cmd: ScheduleSession, repo: AbstractRepository, ctx: Context
) -> tuple[Programme, Session]:
    scheduled: list[Session] = []

    def decide(programme: Programme) -> list[Event]:
        session, events = programme.schedule_session(cmd)
        scheduled.append(session)
        return events

    programme = _change_programme(
        cmd.programme_id, cmd.expected_version, "session.schedule", repo, ctx, decide
    )
    return programme, scheduled[0]


def reschedule_session(cmd: RescheduleSession, repo: AbstractRepository, ctx: Context) -> Programme:
    return _change_programme(
        cmd.programme_id,
        cmd.expected_version,
        "session.reschedule",
        repo,
        ctx,
        lambda p: p.reschedule_session(cmd),
    )


def cancel_session(cmd: CancelSession, repo: AbstractRepository, ctx: Context) -> Programme:
    return _change_programme(
        cmd.programme_id,
        cmd.expected_version,
        "session.cancel",
        repo,
        ctx,
        lambda p: p.cancel_session(cmd.session_id, cmd.reason),
    )


def _change_programme(
    programme_id: str,
    expected_version: int | None,
    action: str,
    repo: AbstractRepository,
    ctx: Context,
    decide: Callable[[Programme], list[Event]],
) -> Programme:
    programme = load(repo, Programme, programme_id)
    authorize(ctx.principal, POLICY[action], programme.org)
    check_version(programme, expected_version)
    before = encode(programme)
    events = decide(programme)
    PRODUCER.commit(repo, ctx, programme, events, action, before)
    return programme


# --- the roster -----------------------------------------------------------------------------------------


def enrol(cmd: Enrol, repo: AbstractRepository, ctx: Context) -> tuple[Programme, Enrolment]:
    """A teacher enrols themself, their director enrols them, or the programme's managers do."""
    authorize(ctx.principal, POLICY["enrolment.create"])
    teacher = _teacher(repo, cmd.teacher_id)
    _authorize_for_teacher(ctx.principal, "enrolment.create", teacher, managers_by_programme=True)
    for attempt in range(ROSTER_ATTEMPTS):
        programme = _roster_programme(repo, cmd.programme_id, ctx.principal, "enrolment.create")
        check_version(programme, cmd.expected_version)
        before = encode(programme)
        enrolment, events = programme.enrol(teacher, cmd.mode, ctx.principal.sub)
        if _committed(
            repo, ctx, programme, events, "enrolment.create", before, cmd.expected_version, attempt
        ):
            return programme, enrolment
    raise AssertionError("unreachable")  # pragma: no cover - the last attempt raises or returns


def withdraw(cmd: Withdraw, repo: AbstractRepository, ctx: Context) -> tuple[Programme, Enrolment]:
    authorize(ctx.principal, POLICY["enrolment.withdraw"])
    teacher = _teacher(repo, cmd.teacher_id)
    _authorize_for_teacher(ctx.principal, "enrolment.withdraw", teacher, managers_by_programme=True)
    for attempt in range(ROSTER_ATTEMPTS):
        programme = _roster_programme(repo, cmd.programme_id, ctx.principal, "enrolment.withdraw")
        check_version(programme, cmd.expected_version)
        before = encode(programme)
        enrolment = programme.enrolment(cmd.teacher_id)
        events = programme.withdraw(cmd.teacher_id)
        if _committed(
            repo, ctx, programme, events, "enrolment.withdraw", before, cmd.expected_version, attempt
        ):
            assert enrolment is not None  # withdraw() refuses a teacher who is not on the roster
            return programme, enrolment
    raise AssertionError("unreachable")  # pragma: no cover


def _committed(
    repo: AbstractRepository,
    ctx: Context,
    programme: Programme,
    events: list[Event],
    action: str,
    before: dict[str, Any],
    expected_version: int | None,
    attempt: int,
) -> bool:
    """Save; on a lost race (and no If-Match pinning the version) report False so the caller reloads."""
    try:
        PRODUCER.commit(repo, ctx, programme, events, action, before)
    except Conflict:
        if expected_version is not None or attempt == ROSTER_ATTEMPTS - 1:
            raise
        return False
    return True


def roster(
    programme_id: str, filters: dict[str, Any], repo: AbstractRepository, principal: Principal
) -> tuple[Programme, list[Enrolment], int]:
    """A page of a programme's roster, as far as the caller may see it (teachers: themselves; directors:
    their school's teachers; the programme's managers and officers above: everyone)."""
    authorize(principal, POLICY["enrolment.read"])
    programme = _readable_programme(repo, programme_id, principal)
    visible = sorted(programme.enrolments, key=lambda e: e.seq)
    if principal.role == "teacher":
        visible = [e for e in visible if e.teacher_id == principal.sub]
    elif not principal.covers(programme.org):
        visible = [e for e in visible if e.school_code == principal.scope_code]
    if "status" in filters:
        visible = [e for e in visible if e.status == filters["status"]]
    if "mode" in filters:
        visible = [e for e in visible if e.mode == filters["mode"]]
    page, size = filters.get("page", 1), filters.get("page_size", 50)
    return programme, visible[(page - 1) * size : page * size], len(visible)


# --- attendance and completion --------------------------------------------------------------------------


def record_attendance(cmd: RecordAttendance, repo: AbstractRepository, ctx: Context) -> Attendance:
    programme = load(repo, Programme, cmd.programme_id)
    authorize(ctx.principal, POLICY["attendance.record"], programme.org)
    teacher = _teacher(repo, cmd.teacher_id)
    existing = repo.get(Attendance, attendance_id(cmd.session_id, cmd.teacher_id))
    before = encode(existing) if existing else None
    attendance, events = programme.record_attendance(cmd, teacher, existing, ctx.principal.sub)
    if events:  # the same minutes again change nothing: no write, no event, no audit entry
        PRODUCER.commit(repo, ctx, attendance, events, "attendance.record", before)
    return attendance


def import_attendance_report(
    programme_id: str,
    session_id: str,
    report: bytes,
    repo: AbstractRepository,
    ctx: Context,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Record a session's online attendance from a platform's participant report.

    Rows are matched to the programme's enrolled teachers; each matched teacher's minutes (rejoins merged,
    capped at the session's length) are recorded through `record_attendance` in mode online, so a teacher
    also present onsite still counts once. Importing the same report again writes nothing. Teachers are
    recorded one by one: if the import stops half-way, running it again finishes it.
    """
    programme = load(repo, Programme, programme_id)
    authorize(ctx.principal, POLICY["attendance.record"], programme.org)
    session = programme.session(session_id)
    if session is None:
        raise NotFound(f"no session {session_id!r} in {programme_id!r}")
    if programme.status != PUBLISHED:
        raise InvalidTransition(
            f"attendance is recorded while a programme is published; it is {programme.status}"
        )
    if session.status != SCHEDULED:
        raise InvalidTransition(f"cannot record attendance of a session that is {session.status}")
    if not session.offers(IMPORT_MODE):
        raise RuleViolation(
            f"the session is {session.mode}: it has no online attendance", {"mode": [session.mode]}
        )
    parsed = attendance_report.parse_report(report, session.session_date)
    enrolled = [
        e.teacher_id for e in sorted(programme.enrolments, key=lambda e: e.seq) if e.status == ENROLLED
    ]
    found = repo.teachers(enrolled)
    matching = attendance_report.match_rows(parsed.rows, [found[t] for t in enrolled if t in found])
    teachers: list[dict[str, Any]] = []
    total = len(matching.rows_by_teacher)
    if progress is not None:
        progress(0, total)
    for done, (teacher_id, rows) in enumerate(matching.rows_by_teacher.items(), start=1):
        minutes = attendance_report.attended_minutes(rows, session.minutes)
        existing = repo.get(Attendance, attendance_id(session_id, teacher_id))
        changed = existing is None or existing.minutes_by_mode.get(IMPORT_MODE) != minutes
        cmd = RecordAttendance(programme_id, session_id, teacher_id, IMPORT_MODE, minutes)
        attendance = record_attendance(cmd, repo, ctx)
        teachers.append(
            {
                "teacher_id": teacher_id,
                "minutes": minutes,
                "credited_minutes": attendance.credited_minutes,
                "lines": [r.line for r in rows],
                "changed": changed,
            }
        )
        if progress is not None:
            progress(done, total)
    return {
        "programme_id": programme_id,
        "session_id": session_id,
        "mode": IMPORT_MODE,
        "rows": len(parsed.rows) + len(parsed.invalid),
        "matched_rows": sum(len(rows) for rows in matching.rows_by_teacher.values()),
        "matched_teachers": total,
        "recorded": sum(1 for t in teachers if t["changed"]),
        "unchanged": sum(1 for t in teachers if not t["changed"]),
        "teachers": teachers,
        "unmatched": [vars(u) for u in matching.unmatched],
        "invalid": [vars(i) for i in parsed.invalid],
    }


def assess_completion(cmd: AssessCompletion, repo: AbstractRepository, ctx: Context) -> Completion:
    """Credit the programme's PD hours to a teacher who met its completion rule — once."""
    programme = load(repo, Programme, cmd.programme_id)
    authorize(ctx.principal, POLICY["completion.assess"], programme.org)
    teacher = _teacher(repo, cmd.teacher_id)
    if repo.get(Completion, completion_id(programme.id, teacher.teacher_id)) is not None:
        raise Conflict(f"{teacher.teacher_id} has already been credited for {programme.id}")
    attendance = repo.attendance_of(programme.id, teacher.teacher_id)
    completion, events = programme.assess_completion(
        teacher, attendance, cmd.assessment_score, ctx.principal.sub
    )
    PRODUCER.commit(repo, ctx, completion, events, "completion.assess", before=None)
    return completion


def pd_hours(
    teacher_id: str, academic_year: int | None, repo: AbstractRepository, principal: Principal
) -> dict[str, Any]:
    """A teacher's credited PD hours per academic year, against the year's target."""
    roles = POLICY["pd_hours.read"]
    authorize(principal, roles)
    teacher = repo.teachers([teacher_id]).get(teacher_id)
    try:
        if teacher is None:
            raise Forbidden("no such teacher")
        _authorize_for_teacher(principal, "pd_hours.read", teacher)
    except Forbidden as err:
        raise NotFound(f"no teacher {teacher_id!r}") from err
    by_year: dict[int, list[Completion]] = {}
    if academic_year is not None:
        by_year[academic_year] = []
    for completion in repo.completions_of(teacher_id, academic_year):
        by_year.setdefault(completion.period.academic_year, []).append(completion)
    years = []
    for year, completions in sorted(by_year.items(), reverse=True):
        hours = round(sum(c.hours_credited for c in completions), 2)
        target = pd_hours_target(year)
        years.append(
            {
                "academic_year": year,
                "hours": hours,
                "target_hours": target,
                "remaining_hours": max(round(target - hours, 2), 0.0),
                "met": hours >= target,
                "completions": completions,
            }
        )
    return {"teacher_id": teacher_id, "school_code": teacher.school_code, "years": years}


# --- certificates ---------------------------------------------------------------------------------------


def certificate(
    completion_id: str, repo: AbstractRepository, principal: Principal
) -> certificates.Certificate:
    """The certificate of a completion, for whoever may read the completion (404 otherwise)."""
    completion = get(Completion, completion_id, repo, principal)
    if not completion.certificate_code:
        raise NotFound(f"no certificate for {completion_id!r}")
    return _certificate(completion, repo)


def verify_certificate(code: str, repo: AbstractRepository) -> dict[str, Any]:
    """What anyone may learn from a verification code: the name, the programme and the date. Nothing else,
    and for an unknown code nothing at all."""
    completion = repo.completion_by_certificate(code) if re.fullmatch(CERTIFICATE_CODE, code) else None
    if completion is None:
        raise NotFound("no such certificate")
    cert = _certificate(completion, repo)
    return {
        "name": cert.teacher_name_th or cert.teacher_name_en,
        "name_en": cert.teacher_name_en,
        "programme_title_th": cert.programme_title_th,
        "programme_title_en": cert.programme_title_en,
        "completed_on": cert.completed_on,
        "valid": True,
    }


def _certificate(completion: Completion, repo: AbstractRepository) -> certificates.Certificate:
    programme = load(repo, Programme, completion.programme_id)
    teacher = repo.teachers([completion.teacher_id]).get(completion.teacher_id)
    return certificates.Certificate(
        code=completion.certificate_code,
        teacher_name_th=(teacher.name_th if teacher else "") or completion.teacher_id,
        teacher_name_en=teacher.name_en if teacher else "",
        programme_title_th=programme.title_th,
        programme_title_en=programme.title_en,
        hours=completion.hours_credited,
        completed_on=completion.completed_on,
    )


# --- queries --------------------------------------------------------------------------------------------


def get(kind: type[E], entity_id: str, repo: AbstractRepository, principal: Principal) -> E:
    if kind is Programme:
        authorize(principal, POLICY["programme.read"])
        return _readable_programme(repo, entity_id, principal)  # type: ignore[return-value]
    roles = POLICY[READ_ACTION[kind]]
    authorize(principal, roles)
    entity = repo.get(kind, entity_id)
    try:
        if entity is None:
            raise Forbidden("no such object")
        authorize(principal, roles, entity.org)
        if principal.role == "teacher" and getattr(entity, "teacher_id", None) != principal.sub:
            raise Forbidden("teachers see their own records")
    except Forbidden as err:
        raise NotFound(f"no {kind.__name__} {entity_id!r}") from err
    return entity


def list_of(
    kind: type[E], filters: dict[str, Any], repo: AbstractRepository, principal: Principal
) -> tuple[list[E], int]:
    """A page of objects matching `filters`, never beyond the caller's scope."""
    authorize(principal, POLICY[READ_ACTION[kind]])
    page, page_size = filters.get("page", 1), filters.get("page_size", 50)
    if kind is Programme:
        query = _programme_query(filters, repo, principal)
        if query is None:
            return [], 0
    else:
        query = org_query(filters, principal.scope_filter())
        query.update({name: filters[name] for name in LIST_FILTERS if name in filters})
        if principal.role == "teacher":  # a teacher lists their own records; asking for others finds nothing
            own = filters.get("teacher_id", principal.sub) == principal.sub
            query["teacher_id"] = principal.sub if own else {"$in": []}
    return repo.list(kind, query, page, page_size)


def _programme_query(
    filters: dict[str, Any], repo: AbstractRepository, principal: Principal
) -> dict[str, Any] | None:
    """Programmes sit at their host's path; a school sees the published programmes open to its teachers
    (its ESA area's and its cluster's). `school_code` asks the same for any school in scope."""
    org_filters = dict(filters)
    school_code = org_filters.pop("school_code", None)
    clauses: list[dict[str, Any]] = []
    if principal.scope_level == "school":
        if school_code not in (None, principal.scope_code):
            return None
        school_code = principal.scope_code
        clauses.append({"status": {"$in": [PUBLISHED, CLOSED]}})
        scope: dict[str, Any] = {}
    else:
        scope = principal.scope_filter()
    clauses.append(org_query(org_filters, scope))
    if school_code is not None:
        school = repo.school(school_code)
        if school is None:
            return None
        clauses.append(
            {"org.esa_code": school.org.esa_code, "org.cluster_id": {"$in": [None, school.org.cluster_id]}}
        )
    clauses.append({name: filters[name] for name in ("status", "host_level") if name in filters})
    clauses = [c for c in clauses if c]
    if len(clauses) == 1:
        return clauses[0]
    return {"$and": clauses} if clauses else {}


# --- helpers --------------------------------------------------------------------------------------------


def _readable_programme(repo: AbstractRepository, programme_id: str, principal: Principal) -> Programme:
    """The programme if the caller may see it: within their scope, or published for their school."""
    programme = repo.get(Programme, programme_id)
    if programme is not None and _may_read(programme, repo, principal):
        return programme
    raise NotFound(f"no Programme {programme_id!r}")


def _roster_programme(
    repo: AbstractRepository, programme_id: str, principal: Principal, action: str
) -> Programme:
    """School staff find only the programmes open to their school (404 otherwise); everyone else acts on a
    programme within their scope (403 otherwise)."""
    if principal.scope_level == "school":
        return _readable_programme(repo, programme_id, principal)
    programme = load(repo, Programme, programme_id)
    authorize(principal, POLICY[action], programme.org)
    return programme


def _may_read(programme: Programme, repo: AbstractRepository, principal: Principal) -> bool:
    if principal.covers(programme.org):  # admin too: every role is bound by its scope
        return True
    if principal.scope_level != "school" or programme.status == DRAFT or principal.scope_code is None:
        return False
    school = repo.school(principal.scope_code)
    return school is not None and programme.open_to(school.org)


def _authorize_for_teacher(
    principal: Principal, action: str, teacher: Teacher, managers_by_programme: bool = False
) -> None:
    """Teachers act for themselves only; everyone else within scope of the teacher's school. On the roster,
    `managers_by_programme`: a programme's managers are checked against its host instead (the programme
    takes only its host's teachers). A manager scoped to a school reaches the programme through that school
    (`_roster_programme`), so is held to the teacher's school instead."""
    if principal.role == "teacher" and principal.sub != teacher.teacher_id:
        raise Forbidden("a teacher acts only for themself")
    if managers_by_programme and principal.role in MANAGERS and principal.scope_level != "school":
        return
    authorize(principal, POLICY[action], teacher.org)


def _host(repo: AbstractRepository, host_level: str, host_code: str) -> Org:
    if host_level == "cluster":
        cluster = repo.cluster(host_code)
        if cluster is None:
            raise Invalid("unknown cluster", {"host_code": [host_code]})
        return cluster.org
    area = repo.esa_area(host_code)
    if area is None:
        raise Invalid("unknown ESA area", {"host_code": [host_code]})
    return area.org


def _teacher(repo: AbstractRepository, teacher_id: str) -> Teacher:
    teacher = repo.teachers([teacher_id]).get(teacher_id)
    if teacher is None:
        raise Invalid("unknown teacher", {"teacher_id": [teacher_id]})
    return teacher
