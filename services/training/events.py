"""Domain events of training: one per contract in `shared/catalog/training.py`, with exactly its payload
fields. The class name is the event type (`training.<Name>`); the service layer wraps each in the envelope."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from shared.calendar import Period


@dataclass(frozen=True)
class Event:
    @property
    def event_type(self) -> str:
        return f"training.{type(self).__name__}"

    def payload(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ProgrammeCreated(Event):
    programme_id: str
    title_th: str
    title_en: str
    competency_area: str
    host_level: str
    host_code: str
    credited_hours: float
    period: Period


@dataclass(frozen=True)
class ProgrammePublished(Event):
    programme_id: str
    period: Period


@dataclass(frozen=True)
class ProgrammeClosed(Event):
    programme_id: str
    period: Period


@dataclass(frozen=True)
class SessionScheduled(Event):
    programme_id: str
    session_id: str
    mode: str
    session_date: date
    start_time: str
    end_time: str
    minutes: int
    period: Period


@dataclass(frozen=True)
class SessionRescheduled(Event):
    programme_id: str
    session_id: str
    previous_date: date
    session_date: date
    start_time: str
    end_time: str
    teacher_ids: list[str]
    period: Period


@dataclass(frozen=True)
class SessionCancelled(Event):
    programme_id: str
    session_id: str
    session_date: date
    reason: str
    teacher_ids: list[str]
    period: Period


@dataclass(frozen=True)
class EnrolmentCreated(Event):
    programme_id: str
    teacher_id: str
    school_code: str
    mode: str
    status: str
    period: Period


@dataclass(frozen=True)
class EnrolmentWithdrawn(Event):
    programme_id: str
    teacher_id: str
    school_code: str
    previous_status: str
    period: Period


@dataclass(frozen=True)
class SeatOffered(Event):
    programme_id: str
    teacher_id: str
    school_code: str
    mode: str
    period: Period


@dataclass(frozen=True)
class AttendanceRecorded(Event):
    programme_id: str
    session_id: str
    teacher_id: str
    school_code: str
    session_date: date
    mode: str
    minutes: int
    credited_minutes: int
    period: Period


@dataclass(frozen=True)
class CompletionAchieved(Event):
    programme_id: str
    teacher_id: str
    school_code: str
    hours_credited: float
    attendance_share: float
    assessment_score: float | None
    period: Period
