"""A realistic, deterministic demo results file for the directory's schools (`cli generate`, `cli seed-demo`).

Primary schools (an ESA area of level `primary`) sit RT in P1, NT in P3 and O-NET in P6; large primary
schools also teach M1-M3 (opportunity-expansion schools) and sit O-NET in M3; secondary schools sit O-NET in
M3 and M6. School GPA comes for a few subjects of the tested grades. O-NET rows carry a score distribution in
five bands. The smallest school has fewer than five pupils tested in its tests (a small cell, which views
suppress). The same seed, year and schools give the same file.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.achievement.rows import BAND_PREFIX, REQUIRED

DEMO_SCHOOLS = Path(__file__).resolve().parents[1] / "directory" / "demo" / "schools.csv"
BANDS = (
    ("0-19.99", 0, 20),
    ("20-39.99", 20, 40),
    ("40-59.99", 40, 60),
    ("60-79.99", 60, 80),
    ("80-100", 80, 101),
)
COLUMNS = (*REQUIRED, *(BAND_PREFIX + label for label, _, _ in BANDS))
SMALL_CELL = 4
# typical national means (0-100) per test and subject, and school GPA (0-4)
TYPICAL = {
    ("rt", "reading_aloud"): 72,
    ("rt", "reading_comprehension"): 70,
    ("nt", "literacy"): 55,
    ("nt", "numeracy"): 50,
    ("onet", "thai"): 50,
    ("onet", "math"): 30,
    ("onet", "science"): 33,
    ("onet", "social"): 36,
    ("onet", "english"): 35,
}
GPA_SUBJECTS = ("thai", "math", "science", "foreign_language")


@dataclass(frozen=True)
class DemoSchool:
    code: str
    esa_code: str
    level: str  # primary | secondary
    students: int


def read_schools(path: Path = DEMO_SCHOOLS) -> list[DemoSchool]:
    """Schools of a directory `schools.csv`; their ESA level from `esa_areas.csv` beside it when present."""
    levels: dict[str, str] = {}
    areas = path.parent / "esa_areas.csv"
    if areas.exists():
        with areas.open(encoding="utf-8-sig", newline="") as stream:
            levels = {row["esa_code"]: row["level"] for row in csv.DictReader(stream)}
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return [
            DemoSchool(
                row["school_code"],
                row["esa_code"],
                levels.get(row["esa_code"], "secondary" if row["esa_code"][2:3] == "S" else "primary"),
                int(row.get("students") or 120),
            )
            for row in csv.DictReader(stream)
        ]


def _sittings(school: DemoSchool) -> list[tuple[str, str, tuple[str, ...]]]:
    """(test, grade, subjects) a school sits."""
    if school.level == "secondary":
        return [
            ("onet", "M3", ("thai", "math", "science", "english")),
            ("onet", "M6", ("thai", "math", "science", "social", "english")),
            ("gpa", "M3", GPA_SUBJECTS),
            ("gpa", "M6", GPA_SUBJECTS),
        ]
    sittings = [
        ("rt", "P1", ("reading_aloud", "reading_comprehension")),
        ("nt", "P3", ("literacy", "numeracy")),
        ("onet", "P6", ("thai", "math", "science", "english")),
        ("gpa", "P6", GPA_SUBJECTS),
    ]
    if school.students >= 600:  # an opportunity-expansion school also teaches M1-M3
        sittings += [("onet", "M3", ("thai", "math", "science", "english")), ("gpa", "M3", GPA_SUBJECTS)]
    return sittings


def generate(schools: Iterable[DemoSchool], year: int = 2568, seed: int = 2568) -> list[dict[str, Any]]:
    """The rows of one academic year's results file."""
    schools = list(schools)
    smallest = min(schools, key=lambda s: s.students).code if schools else None
    rows: list[dict[str, Any]] = []
    for school in schools:
        rng = random.Random(f"{seed}-{year}-{school.code}")
        # a school's own level, the same in every test: lasting, with a small change from year to year
        skill = random.Random(f"{seed}-{school.code}").gauss(0, 6) + rng.gauss(0, 2)
        grades = 6 if school.level == "secondary" or school.students < 600 else 9
        per_grade = max(SMALL_CELL + 1, round(school.students / grades * rng.uniform(0.85, 1.05)))
        for test, grade, subjects in _sittings(school):
            tested = SMALL_CELL - rng.randint(0, 1) if school.code == smallest else per_grade
            for subject in subjects:
                rows.append(_row(rng, test, year, school.code, subject, grade, tested, skill))
    return rows


def _row(
    rng: random.Random, test: str, year: int, school: str, subject: str, grade: str, tested: int, skill: float
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "test": test,
        "academic_year": year,
        "school_code": school,
        "subject": subject,
        "grade": grade,
        "tested": tested,
    }
    if test == "gpa":
        row["mean"] = round(min(4.0, max(1.0, rng.gauss(2.9 + skill / 20, 0.25))), 2)
        return row
    target = TYPICAL[(test, subject)] + skill
    scores = [min(100.0, max(0.0, rng.gauss(target, 14))) for _ in range(tested)]
    row["mean"] = round(sum(scores) / tested, 2)
    if test == "onet":
        for label, low, high in BANDS:
            row[BAND_PREFIX + label] = sum(1 for s in scores if low <= s < high)
    return row


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
