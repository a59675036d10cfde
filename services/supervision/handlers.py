"""The service layer: one plain function per command — load, authorize, decide, save.

Authorization is `shared.auth.authorize` against the role table `POLICY` and the object's org path. Reads of
an object outside the caller's scope answer 404 (its existence is not leaked); writes answer 403.
"""

from __future__ import annotations

from datetime import date
from typing import Any

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
    CoachingSession,
    Finding,
    FollowUp,
    PlcSession,
    School,
    SupervisionPlan,
    Visit,
)
from services.supervision.repository import AbstractRepository, E
from shared.auth import Principal, authorize
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.repository import encode
from shared.schemas import org_query
from shared.service_layer import Context, Producer, check_version, load

SYSTEM_ACTOR = "system:supervision-overdue-sweep"
PRODUCER = Producer("supervision", SYSTEM_ACTOR, "services.supervision.relay")
system_audit = PRODUCER.system_audit

# Who may do what. `shared.auth.authorize` also lets "admin" do anything, and always checks the object's
# org path against the caller's scope: supervisors and ESA officers act within their ESA area, school staff
# within their school, a cluster coordinator within the cluster, province and national officers read theirs.
AREA_STAFF = ("supervisor", "esa_officer")
READERS = (
    *AREA_STAFF,
    "school_director",
    "teacher",
    "cluster_coordinator",
    "province_officer",
    "national_officer",
)
POLICY: dict[str, tuple[str, ...]] = {
    "plan.create": AREA_STAFF,
    "plan.read": READERS,
    "visit.schedule": AREA_STAFF,
    "visit.complete": AREA_STAFF,
    "visit.cancel": AREA_STAFF,
    "visit.read": READERS,
    "coaching.record": AREA_STAFF,
    "coaching.read": READERS,
    "plc.record": (*AREA_STAFF, "cluster_coordinator"),
    "plc.read": READERS,
    "finding.record": AREA_STAFF,
    "finding.read": READERS,
    "follow_up.open": AREA_STAFF,
    "follow_up.complete": (*AREA_STAFF, "school_director"),
    "follow_up.read": READERS,
}
READ_ACTION: dict[type, str] = {
    SupervisionPlan: "plan.read",
    Visit: "visit.read",
    CoachingSession: "coaching.read",
    PlcSession: "plc.read",
    Finding: "finding.read",
    FollowUp: "follow_up.read",
}
LIST_FILTERS = ("status", "visit_id", "finding_id", "kind")


# --- commands -------------------------------------------------------------------------------------------


def create_plan(cmd: CreatePlan, repo: AbstractRepository, ctx: Context) -> SupervisionPlan:
    authorize(ctx.principal, POLICY["plan.create"])
    targets = _schools(repo, cmd.target_school_codes, "target_school_codes")
    plan, events = SupervisionPlan.create(cmd, targets, ctx.principal.sub)
    authorize(ctx.principal, POLICY["plan.create"], plan.org)
    PRODUCER.commit(repo, ctx, plan, events, "plan.create", before=None)
    return plan


def schedule_visit(cmd: ScheduleVisit, repo: AbstractRepository, ctx: Context) -> Visit:
    authorize(ctx.principal, POLICY["visit.schedule"])
    school = _school(repo, cmd.school_code)
    authorize(ctx.principal, POLICY["visit.schedule"], school.org)
    plan = _reference(repo, SupervisionPlan, cmd.plan_id, "plan_id") if cmd.plan_id else None
    visit, events = Visit.schedule(cmd, school, ctx.principal.sub, plan)
    PRODUCER.commit(repo, ctx, visit, events, "visit.schedule", before=None)
    return visit


def complete_visit(cmd: CompleteVisit, repo: AbstractRepository, ctx: Context) -> Visit:
    visit = load(repo, Visit, cmd.visit_id)
    authorize(ctx.principal, POLICY["visit.complete"], visit.org)
    check_version(visit, cmd.expected_version)
    before = encode(visit)
    events = visit.complete(cmd, repo.teachers(cmd.teachers_observed))
    PRODUCER.commit(repo, ctx, visit, events, "visit.complete", before)
    return visit


def cancel_visit(cmd: CancelVisit, repo: AbstractRepository, ctx: Context) -> Visit:
    visit = load(repo, Visit, cmd.visit_id)
    authorize(ctx.principal, POLICY["visit.cancel"], visit.org)
    check_version(visit, cmd.expected_version)
    before = encode(visit)
    events = visit.cancel(cmd.reason)
    PRODUCER.commit(repo, ctx, visit, events, "visit.cancel", before)
    return visit


def record_coaching(cmd: RecordCoaching, repo: AbstractRepository, ctx: Context) -> CoachingSession:
    authorize(ctx.principal, POLICY["coaching.record"])
    school = _school(repo, cmd.school_code)
    authorize(ctx.principal, POLICY["coaching.record"], school.org)
    session, events = CoachingSession.record(cmd, school, repo.teachers(cmd.teacher_ids), ctx.principal.sub)
    PRODUCER.commit(repo, ctx, session, events, "coaching.record", before=None)
    return session


def record_plc(cmd: RecordPlc, repo: AbstractRepository, ctx: Context) -> PlcSession:
    authorize(ctx.principal, POLICY["plc.record"])
    cluster = repo.cluster(cmd.cluster_id)
    if cluster is None:
        raise Invalid("unknown cluster", {"cluster_id": [cmd.cluster_id]})
    authorize(ctx.principal, POLICY["plc.record"], cluster.org)
    schools = _schools(repo, cmd.school_codes, "school_codes")
    teachers = repo.teachers(cmd.teacher_ids)
    session, events = PlcSession.record(cmd, cluster, schools, teachers, ctx.principal.sub)
    PRODUCER.commit(repo, ctx, session, events, "plc.record", before=None)
    return session


def record_finding(cmd: RecordFinding, repo: AbstractRepository, ctx: Context) -> Finding:
    visit = load(repo, Visit, cmd.visit_id)
    authorize(ctx.principal, POLICY["finding.record"], visit.org)
    finding, events = visit.record_finding(cmd, ctx.principal.sub)
    PRODUCER.commit(repo, ctx, finding, events, "finding.record", before=None)
    return finding


def open_follow_up(cmd: OpenFollowUp, repo: AbstractRepository, ctx: Context) -> FollowUp:
    finding = load(repo, Finding, cmd.finding_id)
    authorize(ctx.principal, POLICY["follow_up.open"], finding.org)
    follow_up, events = finding.open_follow_up(cmd)
    PRODUCER.commit(repo, ctx, follow_up, events, "follow_up.open", before=None)
    return follow_up


def complete_follow_up(cmd: CompleteFollowUp, repo: AbstractRepository, ctx: Context) -> FollowUp:
    follow_up = load(repo, FollowUp, cmd.follow_up_id)
    authorize(ctx.principal, POLICY["follow_up.complete"], follow_up.org)
    check_version(follow_up, cmd.expected_version)
    before = encode(follow_up)
    events = follow_up.complete(cmd.completed_date, cmd.note)
    PRODUCER.commit(repo, ctx, follow_up, events, "follow_up.complete", before)
    return follow_up


def mark_overdue_follow_ups(on: date, repo: AbstractRepository, batch: int = 500) -> list[FollowUp]:
    """Announce every open follow-up due before `on` as overdue, once: an overdue one is not open any more."""
    marked: list[FollowUp] = []
    while True:
        due = repo.past_due_follow_ups(on, batch)
        done = [f for f in due if _mark_overdue(f, on, repo)]
        marked += done
        if len(due) < batch or not done:
            return marked


def _mark_overdue(follow_up: FollowUp, on: date, repo: AbstractRepository) -> bool:
    before = encode(follow_up)
    try:
        events = follow_up.mark_overdue(on)
        audit = system_audit("follow_up.overdue", follow_up.id, before, encode(follow_up))
        PRODUCER.save(repo, follow_up, events, audit)
    except Conflict:
        return False  # completed meanwhile: nothing to announce
    return True


# --- queries --------------------------------------------------------------------------------------------


def get(kind: type[E], entity_id: str, repo: AbstractRepository, principal: Principal) -> E:
    roles = POLICY[READ_ACTION[kind]]
    authorize(principal, roles)
    entity = repo.get(kind, entity_id)
    try:
        if entity is None:
            raise Forbidden("no such object")
        authorize(principal, roles, entity.org)
    except Forbidden as err:
        # outside the caller's scope looks exactly like absent
        raise NotFound(f"no {kind.__name__} {entity_id!r}") from err
    return entity


def list_of(
    kind: type[E], filters: dict[str, Any], repo: AbstractRepository, principal: Principal
) -> tuple[list[E], int]:
    """A page of objects matching `filters`, never beyond the caller's scope."""
    authorize(principal, POLICY[READ_ACTION[kind]])
    org_filters = dict(filters)
    school = org_filters.pop("school_code", None) if kind is PlcSession else None
    query = org_query(org_filters, principal.scope_filter())
    if school is not None:
        query["school_codes"] = school  # a PLC session belongs to its cluster and lists its schools
    query.update({name: filters[name] for name in LIST_FILTERS if name in filters})
    return repo.list(kind, query, filters.get("page", 1), filters.get("page_size", 50))


# --- helpers --------------------------------------------------------------------------------------------


def _reference(repo: AbstractRepository, kind: type[E], entity_id: str, name: str) -> E:
    entity = repo.get(kind, entity_id)
    if entity is None:
        raise Invalid(f"unknown {name}", {name: [entity_id]})
    return entity


def _school(repo: AbstractRepository, code: str) -> School:
    school = repo.school(code)
    if school is None:
        raise Invalid("unknown school", {"school_code": [code]})
    return school


def _schools(repo: AbstractRepository, codes: list[str], name: str) -> list[School]:
    found = {code: repo.school(code) for code in dict.fromkeys(codes)}
    unknown = [code for code, school in found.items() if school is None]
    if unknown:
        raise Invalid("unknown schools", {name: unknown})
    return [school for school in found.values() if school is not None]
