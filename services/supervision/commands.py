"""Commands: what a caller asks the supervision service to do, already validated by the API's schemas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class CreatePlan:
    title: str
    academic_year: int
    semester: int
    target_school_codes: list[str]
    focus_areas: list[str]


@dataclass(frozen=True)
class ScheduleVisit:
    school_code: str
    scheduled_date: date
    mode: str
    plan_id: str | None = None


@dataclass(frozen=True)
class CompleteVisit:
    visit_id: str
    visit_date: date
    rubric_scores: dict[str, int]
    teachers_observed: list[str]
    mode: str | None = None
    notes: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class CancelVisit:
    visit_id: str
    reason: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class RecordCoaching:
    kind: str
    school_code: str
    session_date: date
    teacher_ids: list[str]
    minutes: int
    topic: str = ""


@dataclass(frozen=True)
class RecordPlc:
    cluster_id: str
    school_codes: list[str]
    session_date: date
    topic: str
    teacher_ids: list[str]


@dataclass(frozen=True)
class RecordFinding:
    visit_id: str
    domain: str
    finding: str
    recommendation: str


@dataclass(frozen=True)
class OpenFollowUp:
    finding_id: str
    owner: str
    action: str
    due_date: date


@dataclass(frozen=True)
class CompleteFollowUp:
    follow_up_id: str
    completed_date: date
    note: str = ""
    expected_version: int | None = None
