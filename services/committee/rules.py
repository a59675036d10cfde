"""The committee rules that change by regulation, kept as data (`rules.json`): seats and quorum."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

RULES_FILE = Path(__file__).with_name("rules.json")


@dataclass(frozen=True)
class SeatBand:
    max_students: int | None  # None: any number of students
    seats: int


@dataclass(frozen=True)
class Quorum:
    share: Fraction
    strictly_more: bool

    def required(self, members: int) -> int:
        """The smallest attendance that reaches quorum (more than half of 9 members: 5)."""
        part = self.share * members
        return math.floor(part) + 1 if self.strictly_more else max(math.ceil(part), 1)

    def reached(self, present: int, members: int) -> bool:
        return members > 0 and present >= self.required(members)


@dataclass(frozen=True)
class Rules:
    school_board_seats: tuple[SeatBand, ...]
    network_min_seats: int
    network_max_seats: int
    quorum: Quorum
    source_th: str

    def board_seats(self, students: int) -> int:
        """A school board's size follows its school's enrolment."""
        for band in self.school_board_seats:
            if band.max_students is None or students <= band.max_students:
                return band.seats
        raise ValueError(f"rules.json has no seat band for {students} students")


def parse(raw: dict) -> Rules:
    bands = sorted(
        (SeatBand(b["max_students"], b["seats"]) for b in raw["school_board_seats"]),
        key=lambda b: math.inf if b.max_students is None else b.max_students,
    )
    quorum = raw["quorum"]
    return Rules(
        school_board_seats=tuple(bands),
        network_min_seats=raw["network_seats"]["min"],
        network_max_seats=raw["network_seats"]["max"],
        # a Fraction of the decimal text: 0.5 × 9 is exactly 4.5, never 4.499…
        quorum=Quorum(Fraction(str(quorum["share"])), bool(quorum["strictly_more"])),
        source_th=raw["source_th"],
    )


@cache
def rules() -> Rules:
    """Loaded once per process."""
    return parse(json.loads(RULES_FILE.read_text("utf-8")))
