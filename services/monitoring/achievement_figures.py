"""Achievement figures derived on read from the views' sums (see folds/achievement.py).

For the latest results year up to the period asked for: the mean of every test, grade and subject weighted by
pupils tested, next to the province and national means, with the change from the year before, and the
O-NET mean over all its subjects and grades. Small cells: a result with fewer pupils tested than the threshold
is hidden from readers outside its school's ESA area (`hide_below`; for a province or the nation, that is
every reader), and so is any figure that would let it be worked out: the unit's O-NET mean and change, and a
province or national comparison mean resting on fewer pupils than the threshold (hidden from everyone, as it
may be one other school's result).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.achievement_tests import subjects

Section = dict[str, Any]  # {test: {grade: {subject: {"sum", "tested", "results"}}}}
HEADLINE_TEST = "onet"


def _cells(section: Section) -> Iterator[tuple[str, str, str, dict[str, float]]]:
    for test, grades in sorted(section.items()):
        for grade, by_subject in sorted(grades.items()):
            for subject, cell in sorted(by_subject.items()):
                yield test, grade, subject, cell


def _cell(section: Section | None, test: str, grade: str, subject: str) -> dict[str, float]:
    return (section or {}).get(test, {}).get(grade, {}).get(subject, {})


def _mean(cell: dict[str, float], at_least: int = 1) -> float | None:
    tested = cell.get("tested", 0)
    return round(cell.get("sum", 0) / tested, 2) if tested >= max(at_least, 1) else None


def _change(now: float | None, before: float | None) -> float | None:
    return round(now - before, 2) if now is not None and before is not None else None


def latest_year(sections: dict[int, Section], up_to: int) -> int | None:
    """The latest year up to `up_to` with any pupil tested."""
    years = [y for y, s in sections.items() if y <= up_to and any(c.get("tested") for *_, c in _cells(s))]
    return max(years, default=None)


def headline_mean(section: Section | None) -> tuple[float | None, int]:
    cells = [c for t, _, _, c in _cells(section or {}) if t == HEADLINE_TEST]
    tested = int(sum(c.get("tested", 0) for c in cells))
    return (round(sum(c.get("sum", 0) for c in cells) / tested, 2) if tested > 0 else None), tested


def achievement_figures(
    own: dict[int, Section],
    province: dict[int, Section],
    national: dict[int, Section],
    up_to: int,
    min_tested: int,
    small_cells_visible: bool = False,
) -> dict[str, Any]:
    """`own`, `province` and `national` are the unit's, its province's and the nation's sections by results
    year; `small_cells_visible` when the reader may see the unit's results however few were tested."""
    hide_below = None if small_cells_visible else min_tested
    year = latest_year(own, up_to)
    if year is None:
        return {
            "academic_year": None,
            "previous_year": None,
            "onet_mean": None,
            "onet_tested": 0,
            "onet_previous_mean": None,
            "onet_change": None,
            "suppressed": False,
            "results": [],
        }
    now, before = own[year], own.get(year - 1)
    rows = [
        _row(now, before, province.get(year), national.get(year), key, hide_below, min_tested)
        for key in _keys(now)
    ]
    hidden = any(r["suppressed"] or r["previous_suppressed"] for r in rows if r["test"] == HEADLINE_TEST)
    mean, tested = headline_mean(now)
    previous_mean, _ = headline_mean(before)
    return {
        "academic_year": year,
        "previous_year": year - 1 if before else None,
        "onet_mean": None if hidden else mean,
        "onet_tested": tested,
        "onet_previous_mean": None if hidden else previous_mean,
        "onet_change": None if hidden else _change(mean, previous_mean),
        "suppressed": any(r["suppressed"] for r in rows),
        "results": rows,
    }


def _keys(section: Section) -> list[tuple[str, str, str]]:
    return [(t, g, s) for t, g, s, c in _cells(section) if c.get("tested", 0) > 0]


def _row(
    now: Section,
    before: Section | None,
    province: Section | None,
    national: Section | None,
    key: tuple[str, str, str],
    hide_below: int | None,
    min_tested: int,
) -> dict[str, Any]:
    test, grade, subject = key
    cell, previous = _cell(now, *key), _cell(before, *key)
    small = hide_below is not None and cell.get("tested", 0) < hide_below
    previous_small = hide_below is not None and 0 < previous.get("tested", 0) < hide_below
    mean = None if small else _mean(cell)
    previous_mean = None if small or previous_small else _mean(previous)
    names = subjects().get(subject)
    return {
        "test": test,
        "grade": grade,
        "subject": subject,
        "subject_name_th": names.name_th if names else subject,
        "subject_name_en": names.name_en if names else subject,
        "mean": mean,
        "tested": None if small else int(cell.get("tested", 0)),
        "schools": int(cell.get("results", 0)),
        "previous_mean": previous_mean,
        "previous_tested": None if small or previous_small else int(previous.get("tested", 0)),
        "change": _change(mean, previous_mean),
        "province_mean": _mean(_cell(province, *key), min_tested),
        "national_mean": _mean(_cell(national, *key), min_tested),
        "suppressed": small,
        "previous_suppressed": previous_small,
    }
