"""The Thai academic calendar, kept as data because it moves (2563 started in July)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from importlib import resources

BE_OFFSET = 543
THAILAND = timezone(timedelta(hours=7), "Asia/Bangkok")  # no daylight saving: a fixed offset is exact


def today() -> date:
    """Today's date in Thailand: due dates, semesters and schedules are Thai calendar days."""
    return datetime.now(UTC).astimezone(THAILAND).date()


@dataclass(frozen=True, order=True)
class Period:
    academic_year: int  # Buddhist Era
    semester: int

    def as_dict(self) -> dict[str, int]:
        return {"academic_year": self.academic_year, "semester": self.semester}

    @property
    def key(self) -> str:
        return f"{self.academic_year}-{self.semester}"

    def label(self, lang: str = "th") -> str:
        if lang == "th":
            return f"ภาคเรียนที่ {self.semester}/{self.academic_year}"
        return f"Semester {self.semester}/{self.academic_year - BE_OFFSET} (BE {self.academic_year})"

    def previous(self) -> Period:
        """The semester before: semester 1 of year Y follows semester 2 of year Y-1."""
        if self.semester == 2:
            return Period(self.academic_year, 1)
        return Period(self.academic_year - 1, 2)


def periods_ending(last: Period, count: int) -> list[Period]:
    """The `count` semesters ending with `last`, oldest first."""
    periods = [last]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return periods[::-1]


@dataclass(frozen=True)
class Term:
    period: Period
    start: date
    end: date


@cache
def terms() -> tuple[Term, ...]:
    raw = json.loads(resources.files("shared.data").joinpath("academic_calendar.json").read_text("utf-8"))
    parsed = (
        Term(
            Period(t["academic_year"], t["semester"]),
            date.fromisoformat(t["start"]),
            date.fromisoformat(t["end"]),
        )
        for t in raw["semesters"]
    )
    return tuple(sorted(parsed, key=lambda t: t.start))


def period_of(day: date) -> Period:
    """The semester a day belongs to; a day in a break counts toward the semester just ended."""
    latest: Term | None = None
    for term in terms():
        if term.start <= day:
            latest = term
        else:
            break
    if latest is not None and (day - latest.end).days <= 120:
        return latest.period
    return _rule_of_thumb(day)


def _rule_of_thumb(day: date) -> Period:
    """Outside the stored years: semester 1 from 16 May, semester 2 from 1 November."""
    year_be = day.year + BE_OFFSET
    if day >= date(day.year, 11, 1):
        return Period(year_be, 2)
    if day >= date(day.year, 5, 16):
        return Period(year_be, 1)
    return Period(year_be - 1, 2)


def to_be(year_ce: int) -> int:
    return year_ce + BE_OFFSET
