"""The national tests and school grades the platform reads, kept as data (`shared/data/achievement_tests.json`):
which grades and subjects each test covers, its score scale, and Thai and English names.

The achievement service validates imported rows against it; the monitoring views label and scale figures with it.
Results count in semester 2 of their academic year, when the tests are sat.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

RESULT_SEMESTER = 2


@dataclass(frozen=True)
class Test:
    code: str
    name_th: str
    name_en: str
    scale: tuple[float, float]
    grades: dict[str, tuple[str, ...]]  # grade -> subjects

    def covers(self, grade: str, subject: str) -> bool:
        return subject in self.grades.get(grade, ())

    def in_scale(self, score: float) -> bool:
        return self.scale[0] <= score <= self.scale[1]


@dataclass(frozen=True)
class Subject:
    code: str
    name_th: str
    name_en: str


@cache
def _data() -> dict:
    return json.loads(resources.files("shared.data").joinpath("achievement_tests.json").read_text("utf-8"))


@cache
def tests() -> dict[str, Test]:
    return {
        code: Test(
            code,
            spec["name_th"],
            spec["name_en"],
            (float(spec["scale"][0]), float(spec["scale"][1])),
            {grade: tuple(subjects) for grade, subjects in spec["grades"].items()},
        )
        for code, spec in _data()["tests"].items()
    }


@cache
def subjects() -> dict[str, Subject]:
    return {code: Subject(code, th, en) for code, (th, en) in _data()["subjects"].items()}


TEST_CODES = tuple(_data()["tests"])
