"""Domain events of achievement: one per contract in `shared/catalog/achievement.py`, with exactly its payload
fields. The class name is the event type (`achievement.<Name>`); the service layer wraps each in the envelope."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from shared.calendar import Period


@dataclass(frozen=True)
class Event:
    @property
    def event_type(self) -> str:
        return f"achievement.{type(self).__name__}"

    def payload(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Band:
    """Students whose score fell in one band of the distribution."""

    band: str
    students: int


@dataclass(frozen=True)
class ResultRecorded(Event):
    result_id: str
    test: str
    academic_year: int
    school_code: str
    subject: str
    grade: str
    mean: float
    tested: int
    distribution: list[Band] | None
    replaces: dict[str, Any] | None
    period: Period

    def payload(self) -> dict[str, Any]:
        data = asdict(self)
        if data["distribution"] is None:  # optional in the contract, but never null
            del data["distribution"]
        return data
