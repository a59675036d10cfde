"""Domain events of committees: one per contract in `shared/catalog/committee.py`, with exactly its payload
fields. The class name is the event type (`committee.<Name>`); the service layer wraps each in the envelope."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from shared.calendar import Period


@dataclass(frozen=True)
class Event:
    @property
    def event_type(self) -> str:
        return f"committee.{type(self).__name__}"

    def payload(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Attendance:
    """One member's attendance at a held meeting (also stored on the meeting)."""

    member_id: str
    stakeholder_group: str
    status: str


@dataclass(frozen=True)
class CommitteeEstablished(Event):
    committee_id: str
    kind: str
    name_th: str
    name_en: str
    school_code: str | None
    cluster_id: str | None
    seats: int
    established_date: date
    period: Period


@dataclass(frozen=True)
class MemberAppointed(Event):
    committee_id: str
    member_id: str
    stakeholder_group: str
    role: str
    term_start: date
    term_end: date
    period: Period


@dataclass(frozen=True)
class MemberTermEnded(Event):
    committee_id: str
    member_id: str
    end_date: date
    reason: str
    period: Period


@dataclass(frozen=True)
class MeetingScheduled(Event):
    meeting_id: str
    committee_id: str
    meeting_date: date
    agenda: list[str]
    period: Period


@dataclass(frozen=True)
class MeetingHeld(Event):
    meeting_id: str
    committee_id: str
    committee_kind: str
    meeting_date: date
    members_total: int
    quorum_required: int
    quorum_reached: bool
    attendance: list[Attendance]
    period: Period


@dataclass(frozen=True)
class MeetingCancelled(Event):
    meeting_id: str
    committee_id: str
    meeting_date: date
    reason: str
    period: Period


@dataclass(frozen=True)
class MinutesRecorded(Event):
    meeting_id: str
    committee_id: str
    recorded_date: date
    period: Period


@dataclass(frozen=True)
class ResolutionAdopted(Event):
    resolution_id: str
    meeting_id: str
    committee_id: str
    adopted_date: date
    title: str
    period: Period


@dataclass(frozen=True)
class ActionItemCreated(Event):
    action_item_id: str
    resolution_id: str
    committee_id: str
    owner_kind: str
    owner_id: str
    due_date: date
    period: Period


@dataclass(frozen=True)
class ActionItemProgressNoted(Event):
    action_item_id: str
    committee_id: str
    noted_date: date
    percent_done: int | None
    period: Period


@dataclass(frozen=True)
class ActionItemOverdue(Event):
    action_item_id: str
    committee_id: str
    due_date: date
    period: Period


@dataclass(frozen=True)
class ActionItemCompleted(Event):
    action_item_id: str
    committee_id: str
    completed_date: date
    was_overdue: bool
    period: Period
