"""Commands: what a caller asks the committee service to do, already validated by the API's schemas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class EstablishCommittee:
    kind: str
    name_th: str
    established_date: date
    name_en: str = ""
    school_code: str | None = None  # a school board's school
    cluster_id: str | None = None  # a network committee's cluster
    seats: int | None = None  # a network committee's size; a board's follows its school's enrolment


@dataclass(frozen=True)
class AppointMember:
    committee_id: str
    name: str
    stakeholder_group: str
    role: str
    term_start: date
    term_end: date
    account: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class EndTerm:
    committee_id: str
    member_id: str
    end_date: date
    reason: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class ScheduleMeeting:
    committee_id: str
    meeting_date: date
    agenda: list[str]
    location: str = ""
    mode: str = ""


@dataclass(frozen=True)
class HoldMeeting:
    meeting_id: str
    attendance: dict[str, str]  # member_id -> present | absent | excused
    minutes: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class CancelMeeting:
    meeting_id: str
    reason: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class RecordMinutes:
    meeting_id: str
    minutes: str
    expected_version: int | None = None


@dataclass(frozen=True)
class AdoptResolution:
    meeting_id: str
    title: str
    text: str
    votes: dict[str, int] | None = None  # for, against, abstain


@dataclass(frozen=True)
class CreateActionItem:
    resolution_id: str
    description: str
    owner_kind: str
    owner_id: str
    due_date: date


@dataclass(frozen=True)
class NoteProgress:
    action_item_id: str
    note: str
    percent_done: int | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class CompleteActionItem:
    action_item_id: str
    completed_date: date
    note: str = ""
    expected_version: int | None = None
