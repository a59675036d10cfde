"""Community-engaged committees (คณะกรรมการสถานศึกษาขั้นพื้นฐาน และคณะกรรมการเครือข่าย): members, meetings,
resolutions and action items.

Plain Python, no I/O. Every state change bumps the entity's `version` (optimistic concurrency) and returns
the domain events it caused; the service layer turns them into integration events of the catalog. Seats and
quorum come from `rules.json` (see `services.committee.rules`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from services.committee.commands import (
    AdoptResolution,
    AppointMember,
    CreateActionItem,
    EndTerm,
    EstablishCommittee,
    HoldMeeting,
    NoteProgress,
    ScheduleMeeting,
)
from services.committee.events import (
    ActionItemCompleted,
    ActionItemCreated,
    ActionItemOverdue,
    ActionItemProgressNoted,
    Attendance,
    CommitteeEstablished,
    Event,
    MeetingCancelled,
    MeetingHeld,
    MeetingScheduled,
    MemberAppointed,
    MemberTermEnded,
    MinutesRecorded,
    ResolutionAdopted,
)
from services.committee.rules import Rules
from shared.calendar import Period, period_of
from shared.catalog.committee import ATTENDANCE, KINDS, MEMBER_ROLES, OWNER_KINDS, STAKEHOLDER_GROUPS
from shared.envelope import Org
from shared.errors import Conflict, Invalid

SCHOOL_BOARD, NETWORK = KINDS
CHAIR, SECRETARY, MEMBER = MEMBER_ROLES
PRESENT = "present"
SOLE_ROLES = (CHAIR, SECRETARY)  # at most one current holder at any time
MAX_MEMBER_RECORDS = 25  # members are embedded in the committee document, past terms included
OWNER_MEMBER, OWNER_SCHOOL = OWNER_KINDS

SCHEDULED, HELD, CANCELLED = "scheduled", "held", "cancelled"
MEETING_STATUSES = (SCHEDULED, HELD, CANCELLED)
OPEN, OVERDUE, DONE = "open", "overdue", "done"
ACTION_ITEM_STATUSES = (OPEN, OVERDUE, DONE)
VOTE_KEYS = ("for", "against", "abstain")


# Thai and English names of the reference codes, as people read them.
KIND_LABELS = {
    "school_board": ("คณะกรรมการสถานศึกษาขั้นพื้นฐาน", "School board"),
    "network": ("คณะกรรมการเครือข่าย", "Network committee"),
}
STAKEHOLDER_LABELS = {
    "school_director": ("ผู้อำนวยการสถานศึกษา", "School director"),
    "teacher": ("ผู้แทนครู", "Teachers' representative"),
    "parent": ("ผู้แทนผู้ปกครอง", "Parents' representative"),
    "community_leader": ("ผู้แทนองค์กรชุมชน", "Community representative"),
    "religious_leader": ("ผู้แทนพระภิกษุสงฆ์หรือองค์กรศาสนา", "Religious representative"),
    "local_government": ("ผู้แทนองค์กรปกครองส่วนท้องถิ่น", "Local government representative"),
    "alumni": ("ผู้แทนศิษย์เก่า", "Alumni representative"),
    "student": ("ผู้แทนนักเรียน", "Students' representative"),
    "esao_representative": ("ผู้แทนสำนักงานเขตพื้นที่การศึกษา", "ESA office representative"),
}
ROLE_LABELS = {
    "chair": ("ประธานกรรมการ", "Chair"),
    "secretary": ("กรรมการและเลขานุการ", "Secretary"),
    "member": ("กรรมการ", "Member"),
}
ATTENDANCE_LABELS = {
    "present": ("มาประชุม", "Present"),
    "absent": ("ขาดประชุม", "Absent"),
    "excused": ("ลาประชุม", "Excused"),
}


class InvalidTransition(Conflict):
    """A state change the object's current state does not allow (HTTP 409)."""


class RuleViolation(Invalid):
    """Input that is well-formed but breaks a committee rule (HTTP 422)."""


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def _one_of(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise RuleViolation(f"{name} must be one of {', '.join(allowed)}", {name: [f"not one of {allowed}"]})
    return value


# --- the local copy of master data, as the domain sees it -----------------------------------------------


@dataclass(frozen=True)
class School:
    code: str
    org: Org
    students: int


@dataclass(frozen=True)
class Cluster:
    cluster_id: str
    org: Org  # the cluster's path: no school


# --- committees and their members -----------------------------------------------------------------------


@dataclass
class Member:
    """A seat held for a term. `term_end` already reflects an early end."""

    id: str
    name: str
    stakeholder_group: str
    role: str
    term_start: date
    term_end: date
    account: str | None = None  # the `sub` of the person's sign-in token: membership rights
    ended_early: bool = False
    end_reason: str = ""

    def current_on(self, day: date) -> bool:
        return self.term_start <= day <= self.term_end

    def overlaps(self, start: date, end: date) -> bool:
        return self.term_start <= end and start <= self.term_end


def most_concurrent(members: Iterable[Member], start: date, end: date) -> int:
    """The most of `members` holding a seat on one day of [start, end]: the count can only rise on the day
    a term starts, so checking `start` and every term start inside the range is enough."""
    overlapping = [m for m in members if m.overlaps(start, end)]
    days = {start, *(m.term_start for m in overlapping if start <= m.term_start <= end)}
    return max((sum(1 for m in overlapping if m.current_on(day)) for day in days), default=0)


@dataclass
class Committee:
    """A school board (org = its school) or a network committee (org = its cluster), one per unit."""

    id: str
    kind: str
    unit: str  # "school:<code>" or "cluster:<id>": unique, so a unit has at most one committee of a kind
    name_th: str
    name_en: str
    school_code: str | None
    cluster_id: str | None
    org: Org
    seats: int
    established_date: date
    period: Period
    created_by: str
    members: list[Member] = field(default_factory=list)
    version: int = 1

    @classmethod
    def establish(
        cls, cmd: EstablishCommittee, unit: School | Cluster, rules: Rules, created_by: str
    ) -> tuple[Committee, list[Event]]:
        kind = _one_of(cmd.kind, KINDS, "kind")
        seats = _seats(cmd, unit, rules)
        school_code = unit.code if isinstance(unit, School) else None
        cluster_id = unit.cluster_id if isinstance(unit, Cluster) else None
        committee = cls(
            id=new_id("committee"),
            kind=kind,
            unit=unit_key(kind, school_code or cluster_id or ""),
            name_th=cmd.name_th,
            name_en=cmd.name_en,
            school_code=school_code,
            cluster_id=cluster_id,
            org=unit.org,
            seats=seats,
            established_date=cmd.established_date,
            period=period_of(cmd.established_date),
            created_by=created_by,
        )
        event = CommitteeEstablished(
            committee.id,
            kind,
            committee.name_th,
            committee.name_en,
            school_code,
            cluster_id,
            seats,
            committee.established_date,
            committee.period,
        )
        return committee, [event]

    # --- who sits on it ---

    def current_members(self, day: date) -> list[Member]:
        return [m for m in self.members if m.current_on(day)]

    def holder(self, role: str, day: date) -> Member | None:
        return next((m for m in self.current_members(day) if m.role == role), None)

    def seat_of(self, account: str, day: date) -> Member | None:
        """The current seat linked to a sign-in account, if any."""
        return next((m for m in self.current_members(day) if m.account == account), None)

    def member(self, member_id: str) -> Member | None:
        return next((m for m in self.members if m.id == member_id), None)

    def vacancies(self, day: date) -> int:
        return max(self.seats - len(self.current_members(day)), 0)

    # --- changes ---

    def appoint(self, cmd: AppointMember) -> tuple[Member, list[Event]]:
        member = Member(
            id=new_id("member"),
            name=cmd.name,
            stakeholder_group=_one_of(cmd.stakeholder_group, STAKEHOLDER_GROUPS, "stakeholder_group"),
            role=_one_of(cmd.role, MEMBER_ROLES, "role"),
            term_start=cmd.term_start,
            term_end=cmd.term_end,
            account=cmd.account,
        )
        self._check_seat(member)
        self.members.append(member)
        self.version += 1
        event = MemberAppointed(
            self.id,
            member.id,
            member.stakeholder_group,
            member.role,
            member.term_start,
            member.term_end,
            period_of(member.term_start),
        )
        return member, [event]

    def _check_seat(self, new: Member) -> None:
        if new.term_end < new.term_start:
            raise RuleViolation("a term ends on or after its start", {"term_end": [new.term_end.isoformat()]})
        if new.term_start < self.established_date:
            raise RuleViolation(
                "a term starts on or after the committee was established",
                {"term_start": [new.term_start.isoformat()]},
            )
        if len(self.members) >= MAX_MEMBER_RECORDS:
            raise RuleViolation(f"a committee keeps at most {MAX_MEMBER_RECORDS} member records", {})
        if most_concurrent(self.members, new.term_start, new.term_end) + 1 > self.seats:
            raise RuleViolation(
                f"the committee has {self.seats} seats and they are all taken during this term",
                {"term_start": ["no vacant seat for the whole term"]},
            )
        overlapping = [m for m in self.members if m.overlaps(new.term_start, new.term_end)]
        if new.role in SOLE_ROLES and any(m.role == new.role for m in overlapping):
            raise RuleViolation(
                f"the committee already has a {new.role} during this term", {"role": [new.role]}
            )
        if new.account is not None and any(m.account == new.account for m in overlapping):
            raise RuleViolation(
                "this account already holds a seat during this term", {"account": [new.account]}
            )

    def end_term(self, cmd: EndTerm) -> list[Event]:
        member = self.member(cmd.member_id)
        if member is None:
            raise RuleViolation("no such member of this committee", {"member_id": [cmd.member_id]})
        if member.ended_early:
            raise InvalidTransition(f"the term of {member.id} already ended on {member.term_end.isoformat()}")
        if not member.term_start <= cmd.end_date <= member.term_end:
            raise RuleViolation(
                "an early end falls within the term",
                {"end_date": [f"between {member.term_start.isoformat()} and {member.term_end.isoformat()}"]},
            )
        member.term_end = cmd.end_date
        member.ended_early = True
        member.end_reason = cmd.reason
        self.version += 1
        return [MemberTermEnded(self.id, member.id, cmd.end_date, cmd.reason, period_of(cmd.end_date))]


def unit_key(kind: str, code: str) -> str:
    return f"school:{code}" if kind == SCHOOL_BOARD else f"cluster:{code}"


def _seats(cmd: EstablishCommittee, unit: School | Cluster, rules: Rules) -> int:
    if cmd.kind == SCHOOL_BOARD:
        if not isinstance(unit, School) or cmd.seats is not None:
            raise RuleViolation(
                "a school board's seats follow its school's students", {"seats": ["not allowed"]}
            )
        return rules.board_seats(unit.students)
    low, high = rules.network_min_seats, rules.network_max_seats
    if not isinstance(unit, Cluster) or cmd.seats is None or not low <= cmd.seats <= high:
        raise RuleViolation(f"a network committee has {low}-{high} seats", {"seats": [str(cmd.seats)]})
    return cmd.seats


# --- meetings -------------------------------------------------------------------------------------------


@dataclass
class Meeting:
    """A committee meeting: scheduled → held | cancelled. It counts in the semester of its date."""

    id: str
    committee_id: str
    committee_kind: str
    org: Org
    period: Period
    meeting_date: date
    agenda: list[str]
    scheduled_by: str
    location: str = ""
    mode: str = ""
    status: str = SCHEDULED
    attendance: list[Attendance] = field(default_factory=list)
    members_total: int = 0
    present: int = 0
    quorum_required: int = 0
    quorum_reached: bool = False
    minutes: str = ""
    minutes_recorded_date: date | None = None
    cancel_reason: str = ""
    version: int = 1

    @classmethod
    def schedule(cls, cmd: ScheduleMeeting, committee: Committee, by: str) -> tuple[Meeting, list[Event]]:
        if not cmd.agenda:
            raise RuleViolation("a meeting has an agenda", {"agenda": ["empty"]})
        meeting = cls(
            id=new_id("meeting"),
            committee_id=committee.id,
            committee_kind=committee.kind,
            org=committee.org,
            period=period_of(cmd.meeting_date),
            meeting_date=cmd.meeting_date,
            agenda=list(cmd.agenda),
            scheduled_by=by,
            location=cmd.location,
            mode=cmd.mode,
        )
        event = MeetingScheduled(
            meeting.id, committee.id, meeting.meeting_date, list(meeting.agenda), meeting.period
        )
        return meeting, [event]

    def hold(self, cmd: HoldMeeting, committee: Committee, rules: Rules, today: date) -> list[Event]:
        self._require(SCHEDULED, "hold")
        if self.meeting_date > today:
            raise RuleViolation(
                "a meeting is held on or before today", {"meeting_date": [self.meeting_date.isoformat()]}
            )
        current = committee.current_members(self.meeting_date)
        if not current:
            raise RuleViolation(
                "the committee had no members on the meeting date", {"attendance": ["no members"]}
            )
        self.attendance = check_attendance(cmd.attendance, current)
        self.members_total = len(current)
        self.present = sum(1 for a in self.attendance if a.status == PRESENT)
        self.quorum_required = rules.quorum.required(self.members_total)
        self.quorum_reached = rules.quorum.reached(self.present, self.members_total)
        self.status = HELD
        self.version += 1
        events: list[Event] = [
            MeetingHeld(
                self.id,
                self.committee_id,
                self.committee_kind,
                self.meeting_date,
                self.members_total,
                self.quorum_required,
                self.quorum_reached,
                list(self.attendance),
                self.period,
            )
        ]
        if cmd.minutes:  # minutes given with the attendance are recorded as well
            self.minutes = cmd.minutes
            self.minutes_recorded_date = today
            events.append(MinutesRecorded(self.id, self.committee_id, today, self.period))
        return events

    def cancel(self, reason: str) -> list[Event]:
        self._require(SCHEDULED, "cancel")
        self.status = CANCELLED
        self.cancel_reason = reason
        self.version += 1
        return [MeetingCancelled(self.id, self.committee_id, self.meeting_date, reason, self.period)]

    def record_minutes(self, minutes: str, today: date) -> list[Event]:
        if self.status != HELD:
            raise InvalidTransition(f"minutes are recorded for a held meeting; this one is {self.status}")
        self.minutes = minutes
        self.minutes_recorded_date = today
        self.version += 1
        return [MinutesRecorded(self.id, self.committee_id, today, self.period)]

    def adopt(self, cmd: AdoptResolution, by: str) -> tuple[Resolution, list[Event]]:
        if self.status != HELD:
            raise InvalidTransition(
                f"resolutions are adopted at a held meeting; the meeting is {self.status}, not held"
            )
        if not self.quorum_reached:
            raise InvalidTransition(
                f"no quorum: {self.present} of {self.members_total} present, {self.quorum_required} needed"
            )
        resolution = Resolution(
            id=new_id("resolution"),
            meeting_id=self.id,
            committee_id=self.committee_id,
            committee_kind=self.committee_kind,
            org=self.org,
            period=self.period,
            adopted_date=self.meeting_date,
            title=cmd.title,
            text=cmd.text,
            votes=check_votes(cmd.votes, self.present),
            adopted_by=by,
        )
        event = ResolutionAdopted(
            resolution.id,
            self.id,
            self.committee_id,
            resolution.adopted_date,
            resolution.title,
            resolution.period,
        )
        return resolution, [event]

    def _require(self, status: str, action: str) -> None:
        if self.status != status:
            raise InvalidTransition(f"cannot {action} a meeting that is {self.status}")


def check_attendance(given: dict[str, str], current: list[Member]) -> list[Attendance]:
    """One entry for every member current on the meeting date, and none for anyone else."""
    expected = {m.id: m for m in current}
    unknown = sorted(set(given) - set(expected))
    missing = sorted(set(expected) - set(given))
    invalid = sorted(k for k, v in given.items() if v not in ATTENDANCE)
    if unknown or missing or invalid:
        problems = {"unknown": unknown, "missing": missing, "invalid_status": invalid}
        raise RuleViolation(
            "attendance lists every member current on the meeting date, and only them",
            {"attendance": {k: v for k, v in problems.items() if v}},
        )
    return [Attendance(m.id, m.stakeholder_group, given[m.id]) for m in current]


def check_votes(votes: dict[str, int] | None, present: int) -> dict[str, int] | None:
    if votes is None:
        return None
    counts = {key: votes.get(key, 0) for key in VOTE_KEYS}
    if set(votes) - set(VOTE_KEYS) or any(v < 0 for v in counts.values()):
        raise RuleViolation("votes are for, against and abstain, each 0 or more", {"votes": [str(votes)]})
    if sum(counts.values()) > present:
        raise RuleViolation(
            f"{sum(counts.values())} votes but only {present} members present",
            {"votes": ["more than present"]},
        )
    return counts


# --- resolutions and their action items -----------------------------------------------------------------


@dataclass
class Resolution:
    """A decision adopted at a held, quorate meeting; it counts in the meeting's semester."""

    id: str
    meeting_id: str
    committee_id: str
    committee_kind: str
    org: Org
    period: Period
    adopted_date: date
    title: str
    text: str
    adopted_by: str
    votes: dict[str, int] | None = None
    version: int = 1

    def create_action_item(
        self, cmd: CreateActionItem, committee: Committee, owner_school: School | None, today: date
    ) -> tuple[ActionItem, list[Event]]:
        if cmd.due_date < self.adopted_date:
            raise RuleViolation(
                "an action item is due on or after its resolution", {"due_date": [cmd.due_date.isoformat()]}
            )
        owner_name, owner_account, owner_org = _owner(cmd, committee, owner_school, today)
        item = ActionItem(
            id=new_id("action"),
            resolution_id=self.id,
            meeting_id=self.meeting_id,
            committee_id=self.committee_id,
            committee_kind=self.committee_kind,
            org=self.org,
            # the resolution's period for the whole life of the item, so open/overdue tallies return to zero
            period=self.period,
            description=cmd.description,
            owner_kind=cmd.owner_kind,
            owner_id=cmd.owner_id,
            owner_name=owner_name,
            owner_account=owner_account,
            owner_org=owner_org,
            due_date=cmd.due_date,
        )
        event = ActionItemCreated(
            item.id, self.id, self.committee_id, item.owner_kind, item.owner_id, item.due_date, item.period
        )
        return item, [event]


def _owner(
    cmd: CreateActionItem, committee: Committee, school: School | None, today: date
) -> tuple[str, str | None, Org | None]:
    """(name, account, org) of a valid owner: a current member, or the board's school / a school of the
    network's cluster."""
    kind = _one_of(cmd.owner_kind, OWNER_KINDS, "owner_kind")
    if kind == OWNER_MEMBER:
        member = committee.member(cmd.owner_id)
        if member is None or not member.current_on(today):
            raise RuleViolation(
                "the owner is a current member of the committee", {"owner_id": [cmd.owner_id]}
            )
        return member.name, member.account, None
    if school is None or not _school_of(committee, school):
        raise RuleViolation("the owner school belongs to the committee's unit", {"owner_id": [cmd.owner_id]})
    return school.code, None, school.org


def _school_of(committee: Committee, school: School) -> bool:
    if committee.kind == SCHOOL_BOARD:
        return school.code == committee.school_code
    return school.org.cluster_id == committee.cluster_id


@dataclass
class ProgressNote:
    date: date
    by: str
    text: str
    percent: int | None = None


@dataclass
class ActionItem:
    """What a resolution calls for: open → done, or open → overdue → done."""

    id: str
    resolution_id: str
    meeting_id: str
    committee_id: str
    committee_kind: str
    org: Org
    period: Period
    description: str
    owner_kind: str
    owner_id: str
    owner_name: str
    due_date: date
    owner_account: str | None = None  # a member owner's sign-in account: may note progress and complete
    owner_org: Org | None = None  # a school owner's org path: its director may note progress and complete
    status: str = OPEN
    notes: list[ProgressNote] = field(default_factory=list)
    completed_date: date | None = None
    was_overdue: bool = False
    version: int = 1

    @property
    def percent_done(self) -> int | None:
        known = [n.percent for n in self.notes if n.percent is not None]
        return 100 if self.status == DONE else (known[-1] if known else None)

    def note_progress(self, cmd: NoteProgress, by: str, today: date) -> list[Event]:
        if self.status == DONE:
            raise InvalidTransition("the action item is done")
        self.notes.append(ProgressNote(today, by, cmd.note, cmd.percent_done))
        self.version += 1
        return [ActionItemProgressNoted(self.id, self.committee_id, today, cmd.percent_done, self.period)]

    def is_past_due(self, today: date) -> bool:
        return self.status == OPEN and self.due_date < today

    def mark_overdue(self, today: date) -> list[Event]:
        if not self.is_past_due(today):
            raise InvalidTransition(f"action item is {self.status}, due {self.due_date.isoformat()}")
        self.status = OVERDUE
        self.version += 1
        return [ActionItemOverdue(self.id, self.committee_id, self.due_date, self.period)]

    def complete(self, completed_date: date, by: str, note: str = "") -> list[Event]:
        if self.status not in (OPEN, OVERDUE):
            raise InvalidTransition(f"cannot complete an action item that is {self.status}")
        # follows the status, not the calendar: only an item announced overdue announces leaving that state
        self.was_overdue = self.status == OVERDUE
        if note:
            self.notes.append(ProgressNote(completed_date, by, note, 100))
        self.status = DONE
        self.completed_date = completed_date
        self.version += 1
        return [
            ActionItemCompleted(self.id, self.committee_id, completed_date, self.was_overdue, self.period)
        ]


Entity = Committee | Meeting | Resolution | ActionItem
