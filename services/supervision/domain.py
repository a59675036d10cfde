"""Collaborative supervision (การนิเทศแบบร่วมมือ): plans, visits, coaching, PLC, findings and follow-ups.

Plain Python, no I/O. Every state change bumps the entity's `version` (optimistic concurrency) and returns
the domain events it caused; the service layer turns them into integration events of the catalog.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from services.supervision.commands import (
    CompleteVisit,
    CreatePlan,
    OpenFollowUp,
    RecordCoaching,
    RecordFinding,
    RecordPlc,
    ScheduleVisit,
)
from services.supervision.events import (
    CoachingSessionRecorded,
    Event,
    FindingRecorded,
    FollowUpCompleted,
    FollowUpOpened,
    FollowUpOverdue,
    PlanCreated,
    PlcSessionRecorded,
    VisitCancelled,
    VisitCompleted,
    VisitScheduled,
)
from shared.calendar import Period, period_of
from shared.envelope import Org
from shared.errors import Conflict, Invalid

# --- reference data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RubricDomain:
    code: str
    name_th: str
    name_en: str


# The classroom-observation rubric: each domain is scored 1 (needs improvement) to 4 (very good).
RUBRIC_DOMAINS: tuple[RubricDomain, ...] = (
    RubricDomain("learning_design", "การออกแบบการเรียนรู้", "Learning design"),
    RubricDomain("teaching_methods", "กระบวนการจัดการเรียนรู้", "Teaching methods"),
    RubricDomain("classroom_management", "การบริหารจัดการชั้นเรียน", "Classroom management"),
    RubricDomain("assessment", "การวัดและประเมินผล", "Assessment"),
    RubricDomain("learning_media", "สื่อและแหล่งเรียนรู้", "Learning media"),
)
RUBRIC_CODES = tuple(d.code for d in RUBRIC_DOMAINS)
RUBRIC_LEVELS = {
    1: ("ปรับปรุง", "Needs improvement"),
    2: ("พอใช้", "Fair"),
    3: ("ดี", "Good"),
    4: ("ดีมาก", "Very good"),
}
MIN_SCORE, MAX_SCORE = 1, 4

MODES = ("onsite", "online")
SESSION_KINDS = ("coaching", "mentoring")
MAX_SESSION_MINUTES = 8 * 60
MIN_PLC_SCHOOLS = 2  # a PLC of the cluster brings teachers of several schools together

SCHEDULED, COMPLETED, CANCELLED = "scheduled", "completed", "cancelled"
VISIT_STATUSES = (SCHEDULED, COMPLETED, CANCELLED)
OPEN, OVERDUE = "open", "overdue"
FOLLOW_UP_STATUSES = (OPEN, OVERDUE, COMPLETED)


class InvalidTransition(Conflict):
    """A state change the object's current state does not allow (HTTP 409)."""


class RuleViolation(Invalid):
    """Input that is well-formed but breaks a supervision rule (HTTP 422)."""


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


# --- the local copy of master data, as the domain sees it -----------------------------------------------


@dataclass(frozen=True)
class School:
    code: str
    org: Org


@dataclass(frozen=True)
class Cluster:
    cluster_id: str
    org: Org


@dataclass(frozen=True)
class Teacher:
    teacher_id: str
    school_code: str


def check_teachers(requested: list[str], known: dict[str, Teacher], school_codes: set[str]) -> list[str]:
    """The requested teachers, once each, if every one is known and teaches at one of `school_codes`."""
    unique = list(dict.fromkeys(requested))
    unknown = [t for t in unique if t not in known]
    elsewhere = [t for t in unique if t in known and known[t].school_code not in school_codes]
    if unknown or elsewhere:
        errors = {}
        if unknown:
            errors["unknown"] = unknown
        if elsewhere:
            errors["not_at_school"] = elsewhere
        raise RuleViolation("teachers must be known teachers of the school", {"teacher_ids": errors})
    return unique


def check_rubric(scores: dict[str, int]) -> dict[str, int]:
    if not scores:
        raise RuleViolation("score at least one rubric domain", {"rubric_scores": ["empty"]})
    unknown = sorted(set(scores) - set(RUBRIC_CODES))
    out_of_range = sorted(d for d, s in scores.items() if not MIN_SCORE <= s <= MAX_SCORE)
    if unknown or out_of_range:
        raise RuleViolation(
            f"rubric domains are {', '.join(RUBRIC_CODES)}; scores are {MIN_SCORE}-{MAX_SCORE}",
            {"rubric_scores": {"unknown_domains": unknown, "out_of_range": out_of_range}},
        )
    # keep the rubric's own order so stored documents and events read the same way every time
    return {code: scores[code] for code in RUBRIC_CODES if code in scores}


# --- entities -------------------------------------------------------------------------------------------


def _one_of(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise RuleViolation(f"{name} must be one of {', '.join(allowed)}", {name: [f"not one of {allowed}"]})
    return value


def _not_empty(values: list[str], name: str) -> list[str]:
    unique = list(dict.fromkeys(values))
    if not unique:
        raise RuleViolation(f"{name} may not be empty", {name: ["empty"]})
    return unique


@dataclass
class SupervisionPlan:
    """A semester's supervision plan of one ESA area: which schools to reach and what to focus on."""

    id: str
    esa_code: str
    org: Org
    period: Period
    title: str
    target_school_codes: list[str]
    focus_areas: list[str]
    created_by: str
    version: int = 1

    @classmethod
    def create(
        cls, cmd: CreatePlan, targets: list[School], created_by: str
    ) -> tuple[SupervisionPlan, list[Event]]:
        if not targets:
            raise RuleViolation("a plan targets at least one school", {"target_school_codes": ["empty"]})
        areas = {s.org.esa_code for s in targets}
        if len(areas) != 1:
            raise RuleViolation(
                "a plan's target schools belong to one ESA area", {"target_school_codes": sorted(areas)}
            )
        first = targets[0].org
        plan = cls(
            id=new_id("plan"),
            esa_code=first.esa_code or "",
            org=Org(None, None, first.esa_code, first.province_code),
            period=Period(cmd.academic_year, cmd.semester),
            title=cmd.title,
            target_school_codes=list(dict.fromkeys(s.code for s in targets)),
            focus_areas=_not_empty(cmd.focus_areas, "focus_areas"),
            created_by=created_by,
        )
        event = PlanCreated(
            plan.id, plan.esa_code, plan.title, plan.target_school_codes, plan.focus_areas, plan.period
        )
        return plan, [event]


@dataclass
class Visit:
    """A classroom-observation visit: scheduled → completed | cancelled."""

    id: str
    school_code: str
    org: Org
    # the period of the activity: of the day planned, then of the day it actually happened
    period: Period
    supervisor_id: str
    scheduled_date: date
    mode: str
    plan_id: str | None = None
    status: str = SCHEDULED
    visit_date: date | None = None
    rubric_scores: dict[str, int] = field(default_factory=dict)
    teachers_observed: list[str] = field(default_factory=list)
    notes: str = ""
    cancel_reason: str = ""
    version: int = 1

    @classmethod
    def schedule(
        cls, cmd: ScheduleVisit, school: School, supervisor_id: str, plan: SupervisionPlan | None = None
    ) -> tuple[Visit, list[Event]]:
        if plan is not None and plan.esa_code != school.org.esa_code:
            raise RuleViolation("the plan belongs to another ESA area", {"plan_id": [cmd.plan_id]})
        visit = cls(
            id=new_id("visit"),
            school_code=school.code,
            org=school.org,
            period=period_of(cmd.scheduled_date),
            supervisor_id=supervisor_id,
            scheduled_date=cmd.scheduled_date,
            mode=_one_of(cmd.mode, MODES, "mode"),
            plan_id=plan.id if plan else None,
        )
        event = VisitScheduled(
            visit.id,
            visit.school_code,
            supervisor_id,
            visit.scheduled_date,
            visit.mode,
            visit.plan_id,
            visit.period,
        )
        return visit, [event]

    def complete(self, cmd: CompleteVisit, known_teachers: dict[str, Teacher]) -> list[Event]:
        self._require(SCHEDULED, "complete")
        observed = _not_empty(cmd.teachers_observed, "teachers_observed")
        self.teachers_observed = check_teachers(observed, known_teachers, {self.school_code})
        self.rubric_scores = check_rubric(cmd.rubric_scores)
        self.mode = _one_of(cmd.mode or self.mode, MODES, "mode")
        self.visit_date = cmd.visit_date
        self.period = period_of(cmd.visit_date)
        self.notes = cmd.notes
        self.status = COMPLETED
        self.version += 1
        event = VisitCompleted(
            self.id,
            self.school_code,
            cmd.visit_date,
            self.mode,
            dict(self.rubric_scores),
            list(self.teachers_observed),
            self.period,
        )
        return [event]

    def cancel(self, reason: str) -> list[Event]:
        self._require(SCHEDULED, "cancel")
        self.status = CANCELLED
        self.cancel_reason = reason
        self.version += 1
        return [VisitCancelled(self.id, self.school_code, reason, self.period)]

    def record_finding(self, cmd: RecordFinding, recorded_by: str) -> tuple[Finding, list[Event]]:
        if self.status != COMPLETED:
            raise InvalidTransition(f"findings come from a completed visit; this one is {self.status}")
        assert self.visit_date is not None  # a completed visit has its date
        finding = Finding(
            id=new_id("finding"),
            visit_id=self.id,
            school_code=self.school_code,
            org=self.org,
            period=self.period,
            visit_date=self.visit_date,
            domain=_one_of(cmd.domain, RUBRIC_CODES, "domain"),
            finding=cmd.finding,
            recommendation=cmd.recommendation,
            recorded_by=recorded_by,
        )
        event = FindingRecorded(
            finding.id, self.id, self.school_code, finding.domain, finding.recommendation, finding.period
        )
        return finding, [event]

    def _require(self, status: str, action: str) -> None:
        if self.status != status:
            raise InvalidTransition(f"cannot {action} a visit that is {self.status}")


@dataclass
class CoachingSession:
    """Coaching or mentoring of teachers of one school."""

    id: str
    kind: str
    school_code: str
    org: Org
    period: Period
    session_date: date
    teacher_ids: list[str]
    minutes: int
    topic: str
    coach_id: str
    version: int = 1

    @classmethod
    def record(
        cls, cmd: RecordCoaching, school: School, known_teachers: dict[str, Teacher], coach_id: str
    ) -> tuple[CoachingSession, list[Event]]:
        if not 0 < cmd.minutes <= MAX_SESSION_MINUTES:
            raise RuleViolation(f"minutes are 1-{MAX_SESSION_MINUTES}", {"minutes": [str(cmd.minutes)]})
        teachers = check_teachers(_not_empty(cmd.teacher_ids, "teacher_ids"), known_teachers, {school.code})
        session = cls(
            id=new_id("coach"),
            kind=_one_of(cmd.kind, SESSION_KINDS, "kind"),
            school_code=school.code,
            org=school.org,
            period=period_of(cmd.session_date),
            session_date=cmd.session_date,
            teacher_ids=teachers,
            minutes=cmd.minutes,
            topic=cmd.topic,
            coach_id=coach_id,
        )
        event = CoachingSessionRecorded(
            session.id,
            session.kind,
            session.school_code,
            session.session_date,
            list(teachers),
            session.minutes,
            session.period,
        )
        return session, [event]


@dataclass
class PlcSession:
    """A professional learning community session of a cluster, across several of its schools."""

    id: str
    cluster_id: str
    org: Org  # the cluster's path: no school, the session belongs to the cluster
    period: Period
    session_date: date
    topic: str
    school_codes: list[str]
    teacher_ids: list[str]
    facilitator_id: str
    version: int = 1

    @classmethod
    def record(
        cls,
        cmd: RecordPlc,
        cluster: Cluster,
        schools: list[School],
        known_teachers: dict[str, Teacher],
        facilitator_id: str,
    ) -> tuple[PlcSession, list[Event]]:
        codes = _not_empty([s.code for s in schools], "school_codes")
        outside = [s.code for s in schools if s.org.cluster_id != cluster.cluster_id]
        if outside:
            raise RuleViolation("every school must belong to the cluster", {"school_codes": outside})
        if len(codes) < MIN_PLC_SCHOOLS:
            raise RuleViolation(
                f"a PLC session brings together at least {MIN_PLC_SCHOOLS} schools", {"school_codes": codes}
            )
        teachers = check_teachers(_not_empty(cmd.teacher_ids, "teacher_ids"), known_teachers, set(codes))
        session = cls(
            id=new_id("plc"),
            cluster_id=cluster.cluster_id,
            org=Org(None, cluster.cluster_id, cluster.org.esa_code, cluster.org.province_code),
            period=period_of(cmd.session_date),
            session_date=cmd.session_date,
            topic=cmd.topic,
            school_codes=codes,
            teacher_ids=teachers,
            facilitator_id=facilitator_id,
        )
        event = PlcSessionRecorded(
            session.id,
            session.cluster_id,
            list(codes),
            session.session_date,
            session.topic,
            len(teachers),
            session.period,
        )
        return session, [event]


@dataclass
class Finding:
    """What a completed visit found in one rubric domain, and what the supervisor recommends."""

    id: str
    visit_id: str
    school_code: str
    org: Org
    period: Period
    visit_date: date
    domain: str
    finding: str
    recommendation: str
    recorded_by: str
    version: int = 1

    def open_follow_up(self, cmd: OpenFollowUp) -> tuple[FollowUp, list[Event]]:
        if cmd.due_date < self.visit_date:
            raise RuleViolation(
                "a follow-up is due after the visit", {"due_date": [cmd.due_date.isoformat()]}
            )
        follow_up = FollowUp(
            id=new_id("fu"),
            finding_id=self.id,
            visit_id=self.visit_id,
            school_code=self.school_code,
            org=self.org,
            # the finding's period, for the whole life of the follow-up: opened, overdue and completed
            # then count in one semester, so open/overdue tallies always return to zero
            period=self.period,
            owner=cmd.owner,
            action=cmd.action,
            due_date=cmd.due_date,
        )
        event = FollowUpOpened(
            follow_up.id, self.id, self.school_code, follow_up.owner, follow_up.due_date, follow_up.period
        )
        return follow_up, [event]


@dataclass
class FollowUp:
    """An action a finding calls for: open → completed, or open → overdue → completed."""

    id: str
    finding_id: str
    visit_id: str
    school_code: str
    org: Org
    period: Period
    owner: str
    action: str
    due_date: date
    status: str = OPEN
    completed_date: date | None = None
    was_overdue: bool = False
    note: str = ""
    version: int = 1

    def is_past_due(self, today: date) -> bool:
        return self.status == OPEN and self.due_date < today

    def mark_overdue(self, today: date) -> list[Event]:
        if not self.is_past_due(today):
            raise InvalidTransition(f"follow-up is {self.status}, due {self.due_date.isoformat()}")
        self.status = OVERDUE
        self.version += 1
        return [FollowUpOverdue(self.id, self.school_code, self.due_date, self.period)]

    def complete(self, completed_date: date, note: str = "") -> list[Event]:
        if self.status not in (OPEN, OVERDUE):
            raise InvalidTransition(f"cannot complete a follow-up that is {self.status}")
        # `was_overdue` follows the status, not the calendar: only a follow-up announced overdue
        # (FollowUpOverdue) announces leaving that state, so readers' tallies stay balanced
        self.was_overdue = self.status == OVERDUE
        self.status = COMPLETED
        self.completed_date = completed_date
        self.note = note
        self.version += 1
        return [FollowUpCompleted(self.id, self.school_code, completed_date, self.was_overdue, self.period)]


Entity = SupervisionPlan | Visit | CoachingSession | PlcSession | Finding | FollowUp
