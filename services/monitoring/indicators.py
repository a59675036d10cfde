"""The indicator catalogue (`indicators.json`): each indicator is defined once, with its Thai and English names,
formula, unit, the direction that counts as better and its default targets, and is evaluated for any unit and
period from the figures `queries.read_view` derives from the views.

A status compares a value with two thresholds: with direction "higher", a value at or above `target` is on
track, at or above `at_risk` at risk, and below it off track ("lower" is the mirror image); no value, no data.
A threshold is a number or, for a figure counted from the start of the academic year, one per semester
(`{"1": 10, "2": 20}`).

A deployment overrides targets with the JSON file named by `ANP_INDICATOR_TARGETS_FILE`:
`{"<code>": {"target": 0.9, "at_risk": 0.75}}` (either key may be left out). An unknown code or a bad value is
a ValueError when the service starts, never a silent default.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from functools import cache
from pathlib import Path
from typing import Any

from shared.calendar import Period

CATALOGUE_FILE = Path(__file__).with_name("indicators.json")
UNITS = ("share", "score", "hours", "count", "points")
DIRECTIONS = ("higher", "lower")
SEMESTERS = ("1", "2")
THRESHOLDS = ("target", "at_risk")
STATUSES: dict[str, tuple[str, str]] = {
    "on_track": ("ตามเป้าหมาย", "On track"),
    "at_risk": ("มีความเสี่ยง", "At risk"),
    "off_track": ("ไม่เป็นไปตามเป้าหมาย", "Off track"),
    "no_data": ("ไม่มีข้อมูล", "No data"),
}

Threshold = float | dict[str, float]


@dataclass(frozen=True)
class Indicator:
    code: str
    name_th: str
    name_en: str
    formula_th: str
    formula_en: str
    source: str  # a dotted path into a unit's figures, e.g. "supervision.coverage"
    unit: str
    direction: str
    target: Threshold
    at_risk: Threshold

    def thresholds(self, period: Period) -> tuple[float, float]:
        """(target, at_risk) for the period's semester."""
        return _of_semester(self.target, period), _of_semester(self.at_risk, period)

    def value(self, figures: dict[str, Any]) -> float | None:
        node: Any = figures
        for part in self.source.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node if _is_number(node) else None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Catalogue = tuple[Indicator, ...]
FIELDS = tuple(f.name for f in fields(Indicator))
TEXT_FIELDS = ("code", "name_th", "name_en", "formula_th", "formula_en", "source")


# --- status -------------------------------------------------------------------------------------------------


def status(value: float | None, target: float, at_risk: float, direction: str) -> str:
    """on_track, at_risk, off_track, or no_data when there is no value."""
    if value is None:
        return "no_data"
    sign = 1 if direction == "higher" else -1
    if sign * value >= sign * target:
        return "on_track"
    if sign * value >= sign * at_risk:
        return "at_risk"
    return "off_track"


def evaluate(figures: dict[str, Any], period: Period, catalogue: Catalogue) -> list[dict[str, Any]]:
    """Every indicator of the catalogue for one unit's figures (a `read_view` unit or child)."""
    return [_evaluate_one(indicator, figures, period) for indicator in catalogue]


def _evaluate_one(indicator: Indicator, figures: dict[str, Any], period: Period) -> dict[str, Any]:
    value = indicator.value(figures)
    target, at_risk = indicator.thresholds(period)
    code = status(value, target, at_risk, indicator.direction)
    return {
        "code": indicator.code,
        "name_th": indicator.name_th,
        "name_en": indicator.name_en,
        "unit": indicator.unit,
        "direction": indicator.direction,
        "value": value,
        "target": target,
        "at_risk": at_risk,
        "status": code,
        "status_th": STATUSES[code][0],
        "status_en": STATUSES[code][1],
    }


def unit_indicators(figures: dict[str, Any], period: Period, catalogue: Catalogue) -> dict[str, Any]:
    return {
        **{key: figures.get(key) for key in ("level", "code", "name_th", "name_en")},
        "indicators": evaluate(figures, period, catalogue),
    }


def evaluate_view(view: dict[str, Any], period: Period, catalogue: Catalogue) -> dict[str, Any]:
    """A `read_view` result as indicator tables: the unit's, then its children's."""
    return {
        "unit": unit_indicators(view, period, catalogue),
        "period": view.get("period"),
        "as_of": view.get("as_of"),
        "children": [unit_indicators(child, period, catalogue) for child in view.get("children", [])],
    }


def describe(catalogue: Catalogue) -> dict[str, Any]:
    """The catalogue as the API shows it, with the status labels."""
    return {
        "indicators": [indicator.as_dict() for indicator in catalogue],
        "statuses": [{"code": c, "label_th": th, "label_en": en} for c, (th, en) in STATUSES.items()],
    }


# --- loading and validation ---------------------------------------------------------------------------------


@cache
def base_catalogue() -> Catalogue:
    """The catalogue with its default targets, loaded once per process."""
    return parse(json.loads(CATALOGUE_FILE.read_text("utf-8")))


@cache
def catalogue(targets_file: str = "") -> Catalogue:
    """The catalogue with the deployment's targets (`Settings.indicator_targets_file`), once per file."""
    if not targets_file:
        return base_catalogue()
    return with_overrides(base_catalogue(), read_json(targets_file), targets_file)


def parse(raw: Any) -> Catalogue:
    if not isinstance(raw, list) or not raw:
        raise ValueError("indicators.json: expected a non-empty list of indicators")
    parsed = tuple(_indicator(item) for item in raw)
    codes = [indicator.code for indicator in parsed]
    if len(set(codes)) != len(codes):
        raise ValueError(f"indicators.json: duplicate codes in {codes}")
    return parsed


def _indicator(item: Any) -> Indicator:
    where = f"indicators.json: {item.get('code') if isinstance(item, dict) else item!r}"
    if not isinstance(item, dict) or set(item) != set(FIELDS):
        raise ValueError(f"{where}: expected exactly the fields {', '.join(FIELDS)}")
    for name in TEXT_FIELDS:
        if not isinstance(item[name], str) or not item[name].strip():
            raise ValueError(f"{where}: {name} must be a non-empty string")
    if item["unit"] not in UNITS or item["direction"] not in DIRECTIONS:
        raise ValueError(f"{where}: unit must be one of {UNITS} and direction one of {DIRECTIONS}")
    thresholds = {name: threshold(item[name], f"{where}: {name}") for name in THRESHOLDS}
    return _checked(Indicator(**{**item, **thresholds}), where)


def with_overrides(base: Catalogue, raw: Any, origin: str) -> Catalogue:
    """`base` with the targets of an overrides document `{code: {target, at_risk}}` read from `origin`."""
    if not isinstance(raw, dict):
        raise ValueError(f"{origin}: expected an object keyed by indicator code")
    known = [indicator.code for indicator in base]
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ValueError(f"{origin}: unknown indicator codes {unknown}; known codes: {known}")
    return tuple(_override(i, raw[i.code], f"{origin}: {i.code}") if i.code in raw else i for i in base)


def _override(indicator: Indicator, change: Any, where: str) -> Indicator:
    if not isinstance(change, dict) or not change or not set(change) <= set(THRESHOLDS):
        raise ValueError(f'{where}: expected {{"target": …, "at_risk": …}} (either may be left out)')
    values = {name: threshold(value, f"{where}.{name}") for name, value in change.items()}
    return _checked(replace(indicator, **values), where)


def threshold(value: Any, where: str) -> Threshold:
    """A finite number, or exactly one finite number per semester `{"1": …, "2": …}`."""
    if _is_number(value):
        return value
    if isinstance(value, dict) and set(value) == set(SEMESTERS) and all(map(_is_number, value.values())):
        return {semester: value[semester] for semester in SEMESTERS}
    raise ValueError(f'{where}: expected a number or {{"1": number, "2": number}}, got {value!r}')


def _checked(indicator: Indicator, where: str) -> Indicator:
    """The at-risk threshold must lie on the worse side of the target, in every semester."""
    sign = 1 if indicator.direction == "higher" else -1
    for semester in (1, 2):
        target, at_risk = indicator.thresholds(Period(0, semester))
        if sign * at_risk > sign * target:
            side = "at most" if sign == 1 else "at least"
            raise ValueError(
                f"{where}: at_risk ({at_risk}) must be {side} target ({target}) when "
                f"{indicator.direction} is better (semester {semester})"
            )
    return indicator


def read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise ValueError(f"indicator targets file {path!r} cannot be read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"indicator targets file {path!r} is not valid JSON: {exc}") from exc


def _of_semester(value: Threshold, period: Period) -> float:
    return value[str(period.semester)] if isinstance(value, dict) else value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
