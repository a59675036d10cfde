"""Domain events of supervision: one per contract in `shared/catalog/supervision.py`, with exactly its payload
fields. The class name is the event type (`supervision.<Name>`); the service layer wraps each in the envelope."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, ClassVar

from shared.calendar import Period


@dataclass(frozen=True)
class Event:
    event_version: ClassVar[int] = 1  # the contract version this payload follows

    @property
    def event_type(self) -> str:
        return f"supervision.{type(self).__name__}"

    def payload(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlanCreated(Event):
    plan_id: str
    esa_code: str
    title: str
    target_school_codes: list[str]
    focus_areas: list[str]
    period: Period


@dataclass(frozen=True)
class VisitScheduled(Event):
    visit_id: str
    school_code: str
    supervisor_id: str
    scheduled_date: date
    mode: str
    plan_id: str | None
    period: Period


@dataclass(frozen=True)
class VisitCompleted(Event):
    visit_id: str
    school_code: str
    visit_date: date
    mode: str
    rubric_scores: dict[str, int]
    teachers_observed: list[str]
    period: Period


@dataclass(frozen=True)
class VisitCancelled(Event):
    visit_id: str
    school_code: str
    reason: str
    period: Period


@dataclass(frozen=True)
class CoachingSessionRecorded(Event):
    event_version: ClassVar[int] = 2

    session_id: str
    kind: str
    school_code: str
    session_date: date
    teacher_ids: list[str]
    duration_minutes: int
    period: Period


@dataclass(frozen=True)
class PlcSessionRecorded(Event):
    session_id: str
    cluster_id: str
    school_codes: list[str]
    session_date: date
    topic: str
    teacher_count: int
    period: Period


@dataclass(frozen=True)
class FindingRecorded(Event):
    finding_id: str
    visit_id: str
    school_code: str
    domain: str
    recommendation: str
    period: Period


@dataclass(frozen=True)
class FollowUpOpened(Event):
    follow_up_id: str
    finding_id: str
    school_code: str
    owner: str
    due_date: date
    period: Period


@dataclass(frozen=True)
class FollowUpOverdue(Event):
    follow_up_id: str
    school_code: str
    due_date: date
    period: Period


@dataclass(frozen=True)
class FollowUpCompleted(Event):
    follow_up_id: str
    school_code: str
    completed_date: date
    was_overdue: bool
    period: Period
