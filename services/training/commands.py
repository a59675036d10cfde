"""Commands: what a caller asks the training service to do, already validated by the API's schemas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DEFAULT_MIN_ATTENDANCE_SHARE = 0.8  # a programme's completion rule unless it says otherwise


@dataclass(frozen=True)
class CreateProgramme:
    title_th: str
    competency_area: str
    subject: str
    grade_band: str
    credited_hours: float
    start_date: date
    host_level: str  # "esa" | "cluster"
    host_code: str
    title_en: str = ""
    min_attendance_share: float = DEFAULT_MIN_ATTENDANCE_SHARE
    min_assessment_score: float | None = None


@dataclass(frozen=True)
class ChangeProgrammeStatus:
    programme_id: str
    expected_version: int | None = None


@dataclass(frozen=True)
class ScheduleSession:
    programme_id: str
    mode: str
    session_date: date
    start_time: str
    end_time: str
    venue: str = ""
    meeting_link: str = ""
    capacity_onsite: int = 0
    capacity_online: int = 0
    title: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class RescheduleSession:
    programme_id: str
    session_id: str
    session_date: date
    start_time: str
    end_time: str
    expected_version: int | None = None


@dataclass(frozen=True)
class CancelSession:
    programme_id: str
    session_id: str
    reason: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class Enrol:
    programme_id: str
    teacher_id: str
    mode: str
    expected_version: int | None = None


@dataclass(frozen=True)
class Withdraw:
    programme_id: str
    teacher_id: str
    expected_version: int | None = None


@dataclass(frozen=True)
class RecordAttendance:
    programme_id: str
    session_id: str
    teacher_id: str
    mode: str
    minutes: int


@dataclass(frozen=True)
class AssessCompletion:
    programme_id: str
    teacher_id: str
    assessment_score: float | None = None
