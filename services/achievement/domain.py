"""Student achievement (ผลสัมฤทธิ์ทางการเรียน): one school's result in one test, subject and grade.

Plain Python, no I/O. A result is identified by (test, academic year, school, subject, grade); importing it
again with the same values changes nothing, other values correct it (the version goes up by one and the event
names the values it replaces). The tests, their grades, subjects and score scales are `shared.achievement_tests`.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.achievement.events import Band, Event, ResultRecorded
from shared.achievement_tests import RESULT_SEMESTER
from shared.calendar import Period
from shared.envelope import Org

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_ID = 40
HASH_CHARS = 8


def result_id(test: str, academic_year: int, school_code: str, subject: str, grade: str) -> str:
    """A readable code from the key, e.g. `onet-2568-13010001-math-P6`. A key too long for a code (a long
    subject name, a 10-digit school code) keeps its readable start and ends with a hash of the whole key."""
    natural = f"{test}-{academic_year}-{school_code}-{subject}-{grade}"
    if len(natural) <= MAX_ID:
        return natural
    digest = hashlib.sha256(natural.encode()).hexdigest()[:HASH_CHARS]
    return f"{natural[: MAX_ID - HASH_CHARS - 1].rstrip('-_')}-{digest}"


@dataclass(frozen=True)
class School:
    code: str
    org: Org


@dataclass(frozen=True)
class ResultValues:
    """One checked row of an import: the key and the values."""

    test: str
    academic_year: int
    school_code: str
    subject: str
    grade: str
    mean: float
    tested: int
    distribution: list[Band] | None = None

    @property
    def id(self) -> str:
        return result_id(self.test, self.academic_year, self.school_code, self.subject, self.grade)


class Outcome(StrEnum):
    NEW = "new"
    CORRECTED = "corrected"
    UNCHANGED = "unchanged"


@dataclass
class Result:
    """A stored result; `version` goes up by one with every correction."""

    id: str
    test: str
    academic_year: int
    school_code: str
    subject: str
    grade: str
    mean: float
    tested: int
    distribution: list[Band] | None
    org: Org
    period: Period
    import_id: str
    recorded_by: str
    version: int = 1

    @classmethod
    def record(
        cls, values: ResultValues, school: School, import_id: str, actor: str
    ) -> tuple[Result, list[Event]]:
        result = cls(
            id=values.id,
            test=values.test,
            academic_year=values.academic_year,
            school_code=values.school_code,
            subject=values.subject,
            grade=values.grade,
            mean=values.mean,
            tested=values.tested,
            distribution=values.distribution,
            org=school.org,
            period=Period(values.academic_year, RESULT_SEMESTER),
            import_id=import_id,
            recorded_by=actor,
        )
        return result, [result._event(None)]

    def same_values(self, values: ResultValues) -> bool:
        return (
            math.isclose(self.mean, values.mean, rel_tol=0, abs_tol=1e-9)
            and self.tested == values.tested
            and (self.distribution or None) == (values.distribution or None)
        )

    def correct(self, values: ResultValues, school: School, import_id: str, actor: str) -> list[Event]:
        """New values for the same key: the event carries the ones they replace."""
        replaces = {"mean": self.mean, "tested": self.tested}
        self.mean, self.tested, self.distribution = values.mean, values.tested, values.distribution
        self.org = school.org  # the school's current org path (it may have moved since)
        self.import_id, self.recorded_by = import_id, actor
        self.version += 1
        return [self._event(replaces)]

    def _event(self, replaces: dict[str, Any] | None) -> ResultRecorded:
        return ResultRecorded(
            result_id=self.id,
            test=self.test,
            academic_year=self.academic_year,
            school_code=self.school_code,
            subject=self.subject,
            grade=self.grade,
            mean=self.mean,
            tested=self.tested,
            distribution=list(self.distribution) if self.distribution else None,
            replaces=replaces,
            period=self.period,
        )


def classify(stored: Result | None, values: ResultValues) -> Outcome:
    if stored is None:
        return Outcome.NEW
    return Outcome.UNCHANGED if stored.same_values(values) else Outcome.CORRECTED
