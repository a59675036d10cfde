"""Hybrid, cluster-based teacher professional development (การพัฒนาครูแบบผสมผสาน): programmes with their
sessions and roster, attendance per session and mode, completion and the PD-hours ledger.

Plain Python, no I/O. A programme is one aggregate holding its sessions and its roster (enrolments and the
waitlist), so seat counting and the waitlist order are decided under one optimistic `version`. Every state
change bumps the entity's `version` and returns the domain events it caused.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from services.training.commands import (
    CreateProgramme,
    RecordAttendance,
    RescheduleSession,
    ScheduleSession,
)
from services.training.events import (
    AttendanceRecorded,
    CompletionAchieved,
    EnrolmentCreated,
    EnrolmentWithdrawn,
    Event,
    ProgrammeClosed,
    ProgrammeCreated,
    ProgrammePublished,
    SeatOffered,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
)
from shared.calendar import Period, period_of
from shared.envelope import Org
from shared.errors import Conflict, Invalid

# --- reference data -------------------------------------------------------------------------------------

HOST_LEVELS = ("esa", "cluster")
SESSION_MODES = ("onsite", "online", "hybrid")
ATTENDANCE_MODES = ("onsite", "online")
MODES_OF_SESSION = {"onsite": ("onsite",), "online": ("online",), "hybrid": ("onsite", "online")}
GRADE_BANDS = ("early_childhood", "p1_3", "p4_6", "m1_3", "m4_6", "all")

DRAFT, PUBLISHED, CLOSED = "draft", "published", "closed"
PROGRAMME_STATUSES = (DRAFT, PUBLISHED, CLOSED)
SCHEDULED, CANCELLED = "scheduled", "cancelled"
SESSION_STATUSES = (SCHEDULED, CANCELLED)
ENROLLED, WAITLISTED, WITHDRAWN = "enrolled", "waitlisted", "withdrawn"
ENROLMENT_STATUSES = (ENROLLED, WAITLISTED, WITHDRAWN)

CERTIFICATE_CODE_BYTES = 16
CERTIFICATE_CODE = r"^[A-Za-z0-9_-]{16,64}$"


# PD hours a teacher is expected to earn per academic year (BE); `None` is the default for other years.
class InvalidTransition(Conflict):
    """A state change the object's current state does not allow (HTTP 409)."""


class RuleViolation(Invalid):
    """Input that is well-formed but breaks a training rule (HTTP 422)."""


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def _one_of(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise RuleViolation(f"{name} must be one of {', '.join(allowed)}", {name: [f"not one of {allowed}"]})
    return value


def minutes_between(start_time: str, end_time: str) -> int:
    start = datetime.strptime(start_time, "%H:%M")
    end = datetime.strptime(end_time, "%H:%M")
    minutes = int((end - start).total_seconds() // 60)
    if minutes <= 0:
        raise RuleViolation("a session ends after it starts", {"end_time": [end_time]})
    return minutes


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
class EsaArea:
    esa_code: str
    org: Org


@dataclass(frozen=True)
class Teacher:
    teacher_id: str
    school_code: str
    org: Org  # the teacher's school's org path
    name_th: str = ""
    name_en: str = ""
    email: str = ""


# --- the programme aggregate ----------------------------------------------------------------------------


@dataclass
class Session:
    """One meeting of a programme: onsite at a venue, online by a meeting link, or hybrid (both)."""

    id: str
    mode: str
    session_date: date
    start_time: str
    end_time: str
    minutes: int
    period: Period
    venue: str = ""
    meeting_link: str = ""
    capacity_onsite: int = 0
    capacity_online: int = 0
    title: str = ""
    status: str = SCHEDULED
    cancel_reason: str = ""

    def offers(self, mode: str) -> bool:
        return mode in MODES_OF_SESSION[self.mode]

    def capacity(self, mode: str) -> int:
        return self.capacity_onsite if mode == "onsite" else self.capacity_online


@dataclass
class Enrolment:
    """A teacher's place on a programme's roster; `seq` keeps the order teachers joined in."""

    teacher_id: str
    school_code: str
    mode: str
    status: str
    seq: int
    enrolled_by: str


@dataclass
class Programme:
    """A PD programme hosted by an ESA area or a cluster: draft → published → closed."""

    id: str
    org: Org  # the host's path: an ESA area (no cluster) or a cluster, never a school
    period: Period  # of its start date
    host_level: str
    host_code: str
    title_th: str
    title_en: str
    competency_area: str
    subject: str
    grade_band: str
    credited_hours: float
    start_date: date
    min_attendance_share: float
    min_assessment_score: float | None
    created_by: str
    status: str = DRAFT
    sessions: list[Session] = field(default_factory=list)
    enrolments: list[Enrolment] = field(default_factory=list)
    next_seq: int = 1
    version: int = 1

    @classmethod
    def create(cls, cmd: CreateProgramme, host: Org, created_by: str) -> tuple[Programme, list[Event]]:
        _one_of(cmd.host_level, HOST_LEVELS, "host_level")
        if cmd.credited_hours <= 0:
            raise RuleViolation(
                "a programme credits some hours", {"credited_hours": [str(cmd.credited_hours)]}
            )
        if not 0 < cmd.min_attendance_share <= 1:
            raise RuleViolation(
                "the attendance share is above 0 and at most 1",
                {"min_attendance_share": [str(cmd.min_attendance_share)]},
            )
        programme = cls(
            id=new_id("prog"),
            org=host,
            period=period_of(cmd.start_date),
            host_level=cmd.host_level,
            host_code=cmd.host_code,
            title_th=cmd.title_th,
            title_en=cmd.title_en,
            competency_area=cmd.competency_area,
            subject=cmd.subject,
            grade_band=_one_of(cmd.grade_band, GRADE_BANDS, "grade_band"),
            credited_hours=cmd.credited_hours,
            start_date=cmd.start_date,
            min_attendance_share=cmd.min_attendance_share,
            min_assessment_score=cmd.min_assessment_score,
            created_by=created_by,
        )
        event = ProgrammeCreated(
            programme.id,
            programme.title_th,
            programme.title_en,
            programme.competency_area,
            programme.host_level,
            programme.host_code,
            programme.credited_hours,
            programme.period,
        )
        return programme, [event]

    # --- who it is for

    def open_to(self, org: Org) -> bool:
        """Whether teachers of a school with this org path may join (the host's own schools)."""
        if self.host_level == "cluster":
            return org.cluster_id == self.host_code
        return org.esa_code == self.host_code

    # --- lifecycle

    def publish(self) -> list[Event]:
        self._require(DRAFT, "publish")
        if not self.scheduled_sessions():
            raise RuleViolation("schedule at least one session before publishing", {"sessions": ["empty"]})
        self.status = PUBLISHED
        self.version += 1
        return [ProgrammePublished(self.id, self.period)]

    def close(self) -> list[Event]:
        self._require(PUBLISHED, "close")
        self.status = CLOSED
        self.version += 1
        return [ProgrammeClosed(self.id, self.period)]

    # --- sessions

    def schedule_session(self, cmd: ScheduleSession) -> tuple[Session, list[Event]]:
        if self.status == CLOSED:
            raise InvalidTransition("cannot add a session to a closed programme")
        mode = _one_of(cmd.mode, SESSION_MODES, "mode")
        missing: dict[str, list[str]] = {}
        if "onsite" in MODES_OF_SESSION[mode]:
            if not cmd.venue:
                missing["venue"] = ["required for an onsite or hybrid session"]
            if cmd.capacity_onsite < 1:
                missing["capacity_onsite"] = ["at least 1 for an onsite or hybrid session"]
        if "online" in MODES_OF_SESSION[mode]:
            if not cmd.meeting_link:
                missing["meeting_link"] = ["required for an online or hybrid session"]
            if cmd.capacity_online < 1:
                missing["capacity_online"] = ["at least 1 for an online or hybrid session"]
        if missing:
            raise RuleViolation(f"a {mode} session needs its venue, link and seats", missing)
        offers_onsite, offers_online = "onsite" in MODES_OF_SESSION[mode], "online" in MODES_OF_SESSION[mode]
        session = Session(
            id=new_id("sess"),
            mode=mode,
            session_date=cmd.session_date,
            start_time=cmd.start_time,
            end_time=cmd.end_time,
            minutes=minutes_between(cmd.start_time, cmd.end_time),
            period=period_of(cmd.session_date),
            venue=cmd.venue if offers_onsite else "",
            meeting_link=cmd.meeting_link if offers_online else "",
            capacity_onsite=cmd.capacity_onsite if offers_onsite else 0,
            capacity_online=cmd.capacity_online if offers_online else 0,
            title=cmd.title,
        )
        self.sessions.append(session)
        self.version += 1
        event = SessionScheduled(
            self.id,
            session.id,
            session.mode,
            session.session_date,
            session.start_time,
            session.end_time,
            session.minutes,
            session.period,
        )
        return session, [event]

    def reschedule_session(self, cmd: RescheduleSession) -> list[Event]:
        session = self._scheduled_session(cmd.session_id, "reschedule")
        previous = session.session_date
        session.minutes = minutes_between(cmd.start_time, cmd.end_time)
        session.session_date, session.start_time, session.end_time = (
            cmd.session_date,
            cmd.start_time,
            cmd.end_time,
        )
        session.period = period_of(cmd.session_date)
        self.version += 1
        event = SessionRescheduled(
            self.id,
            session.id,
            previous,
            session.session_date,
            session.start_time,
            session.end_time,
            self.teachers_to_notify(),
            session.period,
        )
        return [event]

    def cancel_session(self, session_id: str, reason: str) -> list[Event]:
        session = self._scheduled_session(session_id, "cancel")
        session.status = CANCELLED
        session.cancel_reason = reason
        self.version += 1
        event = SessionCancelled(
            self.id, session.id, session.session_date, reason, self.teachers_to_notify(), session.period
        )
        return [event]

    def session(self, session_id: str) -> Session | None:
        return next((s for s in self.sessions if s.id == session_id), None)

    def scheduled_sessions(self) -> list[Session]:
        return [s for s in self.sessions if s.status == SCHEDULED]

    def _scheduled_session(self, session_id: str, action: str) -> Session:
        if self.status == CLOSED:
            raise InvalidTransition(f"cannot {action} a session of a closed programme")
        session = self.session(session_id)
        if session is None:
            raise RuleViolation("unknown session", {"session_id": [session_id]})
        if session.status != SCHEDULED:
            raise InvalidTransition(f"cannot {action} a session that is {session.status}")
        return session

    # --- roster

    def seats(self, mode: str) -> int:
        """Seats of a mode: the smallest capacity of the scheduled sessions offering it (0 if none does)."""
        capacities = [s.capacity(mode) for s in self.scheduled_sessions() if s.offers(mode)]
        return min(capacities) if capacities else 0

    def taken(self, mode: str) -> int:
        return sum(1 for e in self.enrolments if e.mode == mode and e.status == ENROLLED)

    def waitlist(self, mode: str) -> list[Enrolment]:
        return sorted((e for e in self.enrolments if e.mode == mode and e.status == WAITLISTED), key=_by_seq)

    def enrolment(self, teacher_id: str) -> Enrolment | None:
        """The teacher's current place (a withdrawn one is history, not a place)."""
        return next(
            (e for e in self.enrolments if e.teacher_id == teacher_id and e.status != WITHDRAWN), None
        )

    def teachers_to_notify(self) -> list[str]:
        return [e.teacher_id for e in sorted(self.enrolments, key=_by_seq) if e.status != WITHDRAWN]

    def enrol(self, teacher: Teacher, mode: str, enrolled_by: str) -> tuple[Enrolment, list[Event]]:
        """Take a seat of `mode`, or join the end of its waitlist when the seats are gone."""
        if self.status != PUBLISHED:
            raise InvalidTransition(f"enrolment is open while a programme is published; it is {self.status}")
        _one_of(mode, ATTENDANCE_MODES, "mode")
        if not self.open_to(teacher.org):
            raise RuleViolation(
                "the programme is for teachers of its host's schools", {"teacher_id": [teacher.teacher_id]}
            )
        if self.enrolment(teacher.teacher_id) is not None:
            raise Conflict(f"{teacher.teacher_id} is already on the roster of {self.id}")
        seats = self.seats(mode)
        if seats == 0:
            raise RuleViolation(f"no session of this programme is offered {mode}", {"mode": [mode]})
        status = ENROLLED if self.taken(mode) < seats else WAITLISTED
        enrolment = Enrolment(
            teacher.teacher_id, teacher.school_code, mode, status, self.next_seq, enrolled_by
        )
        self.next_seq += 1
        self.enrolments.append(enrolment)
        self.version += 1
        event = EnrolmentCreated(self.id, teacher.teacher_id, teacher.school_code, mode, status, self.period)
        return enrolment, [event]

    def withdraw(self, teacher_id: str) -> list[Event]:
        """Leave the roster; a freed seat goes to the first teacher waiting for that mode."""
        if self.status == CLOSED:
            raise InvalidTransition("cannot withdraw from a closed programme")
        enrolment = self.enrolment(teacher_id)
        if enrolment is None:
            raise RuleViolation("the teacher is not on the roster", {"teacher_id": [teacher_id]})
        previous = enrolment.status
        enrolment.status = WITHDRAWN
        events: list[Event] = [
            EnrolmentWithdrawn(self.id, teacher_id, enrolment.school_code, previous, self.period)
        ]
        if previous == ENROLLED:
            events += self._offer_freed_seats(enrolment.mode)
        self.version += 1
        return events

    def _offer_freed_seats(self, mode: str) -> list[Event]:
        events: list[Event] = []
        waiting = self.waitlist(mode)
        while waiting and self.taken(mode) < self.seats(mode):
            first = waiting.pop(0)
            first.status = ENROLLED
            events.append(SeatOffered(self.id, first.teacher_id, first.school_code, mode, self.period))
        return events

    def _require(self, status: str, action: str) -> None:
        if self.status != status:
            raise InvalidTransition(f"cannot {action} a programme that is {self.status}")

    # --- attendance and completion

    def record_attendance(
        self, cmd: RecordAttendance, teacher: Teacher, existing: Attendance | None, recorded_by: str
    ) -> tuple[Attendance, list[Event]]:
        if self.status != PUBLISHED:
            raise InvalidTransition(
                f"attendance is recorded while a programme is published; it is {self.status}"
            )
        session = self.session(cmd.session_id)
        if session is None:
            raise RuleViolation("unknown session", {"session_id": [cmd.session_id]})
        if session.status != SCHEDULED:
            raise InvalidTransition(f"cannot record attendance of a session that is {session.status}")
        if not session.offers(_one_of(cmd.mode, ATTENDANCE_MODES, "mode")):
            raise RuleViolation(f"the session is {session.mode}", {"mode": [cmd.mode]})
        if not 0 <= cmd.minutes <= session.minutes:
            raise RuleViolation(
                f"minutes are 0-{session.minutes} for this session", {"minutes": [cmd.minutes]}
            )
        enrolment = self.enrolment(teacher.teacher_id)
        if enrolment is None or enrolment.status != ENROLLED:
            raise RuleViolation("only enrolled teachers attend", {"teacher_id": [teacher.teacher_id]})
        if existing is not None and existing.minutes_by_mode.get(cmd.mode) == cmd.minutes:
            return existing, []  # the same minutes again (a repeated import): nothing changes
        attendance = existing or Attendance(
            id=attendance_id(session.id, teacher.teacher_id),
            programme_id=self.id,
            session_id=session.id,
            teacher_id=teacher.teacher_id,
            school_code=teacher.school_code,
            org=teacher.org,
            period=session.period,
            session_date=session.session_date,
            version=0,
        )
        attendance.minutes_by_mode[cmd.mode] = cmd.minutes
        attendance.recorded_by = recorded_by
        attendance.version += 1
        event = AttendanceRecorded(
            self.id,
            session.id,
            teacher.teacher_id,
            teacher.school_code,
            session.session_date,
            cmd.mode,
            cmd.minutes,
            attendance.credited_minutes,
            attendance.period,
        )
        return attendance, [event]

    def assess_completion(
        self,
        teacher: Teacher,
        attendance: list[Attendance],
        assessment_score: float | None,
        assessed_by: str,
    ) -> tuple[Completion, list[Event]]:
        """Credit the programme's hours when the teacher met its rule: the share of session minutes attended
        and, when the programme asks for one, the assessment score."""
        if self.status not in (PUBLISHED, CLOSED):
            raise InvalidTransition(f"a {self.status} programme has no completions")
        enrolment = self.enrolment(teacher.teacher_id)
        if enrolment is None or enrolment.status != ENROLLED:
            raise RuleViolation("only enrolled teachers complete", {"teacher_id": [teacher.teacher_id]})
        sessions = self.scheduled_sessions()
        share = attendance_share(sessions, attendance)
        shortfalls: dict[str, list[str]] = {}
        if share < self.min_attendance_share:
            shortfalls["attendance_share"] = [f"{share:.2f} < {self.min_attendance_share:.2f}"]
        if self.min_assessment_score is not None and (
            assessment_score is None or assessment_score < self.min_assessment_score
        ):
            shortfalls["assessment_score"] = [f"{assessment_score} < {self.min_assessment_score}"]
        if shortfalls:
            raise RuleViolation("the programme's completion rule is not met", shortfalls)
        last_day = max(s.session_date for s in sessions)
        completion = Completion(
            id=completion_id(self.id, teacher.teacher_id),
            programme_id=self.id,
            teacher_id=teacher.teacher_id,
            school_code=teacher.school_code,
            org=teacher.org,
            period=period_of(last_day),
            completed_on=last_day,
            hours_credited=self.credited_hours,
            attendance_share=round(share, 4),
            assessment_score=assessment_score,
            assessed_by=assessed_by,
            certificate_code=new_certificate_code(),
        )
        event = CompletionAchieved(
            self.id,
            teacher.teacher_id,
            teacher.school_code,
            completion.hours_credited,
            completion.attendance_share,
            assessment_score,
            completion.period,
        )
        return completion, [event]


def _by_seq(enrolment: Enrolment) -> int:
    return enrolment.seq


def attendance_share(sessions: list[Session], attendance: list[Attendance]) -> float:
    """Minutes attended over minutes offered, across the programme's scheduled sessions."""
    offered = sum(s.minutes for s in sessions)
    if offered == 0:
        return 0.0
    minutes = {s.id: s.minutes for s in sessions}
    attended = sum(
        min(a.credited_minutes, minutes[a.session_id]) for a in attendance if a.session_id in minutes
    )
    return attended / offered


def attendance_id(session_id: str, teacher_id: str) -> str:
    return f"att-{session_id}-{teacher_id}"


def new_certificate_code() -> str:
    """A certificate's verification code: unguessable (128 random bits), URL-safe, 22 characters."""
    return secrets.token_urlsafe(CERTIFICATE_CODE_BYTES)


def completion_id(programme_id: str, teacher_id: str) -> str:
    """One completion per (teacher, programme): the id itself is the ledger's key."""
    return f"cmp-{programme_id}-{teacher_id}"


@dataclass
class Attendance:
    """A teacher's attendance of one session, per mode. Joining online and onsite counts once: the session
    credits the larger of the two, never their sum."""

    id: str
    programme_id: str
    session_id: str
    teacher_id: str
    school_code: str
    org: Org  # the teacher's school
    period: Period
    session_date: date
    minutes_by_mode: dict[str, int] = field(default_factory=dict)
    recorded_by: str = ""
    version: int = 1

    @property
    def credited_minutes(self) -> int:
        return max(self.minutes_by_mode.values(), default=0)


@dataclass
class Completion:
    """An entry of the PD-hours ledger: a programme's hours credited to a teacher, once."""

    id: str
    programme_id: str
    teacher_id: str
    school_code: str
    org: Org  # the teacher's school
    period: Period
    completed_on: date
    hours_credited: float
    attendance_share: float
    assessment_score: float | None
    assessed_by: str
    certificate_code: str = ""  # "" only on completions credited before certificates existed
    version: int = 1


Entity = Programme | Attendance | Completion
