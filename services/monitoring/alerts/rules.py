"""Alert rules kept as data (`alert_rules.json`): names, the levels each applies to, thresholds with defaults and
bounds, and message templates in Thai and English; the logic of each rule code is in `conditions.py`.

A deployment overrides thresholds with the JSON file named by `ANP_ALERT_RULES_FILE`:
`{"<rule>": {"<threshold>": value}}`. An unknown rule or threshold, or a value out of bounds, is a ValueError when
the process starts.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from services.monitoring.alerts.conditions import LOGIC, Logic
from services.monitoring.views import LEVELS
from shared.settings import Settings

RULES_FILE = Path(__file__).with_name("alert_rules.json")
RULE_FIELDS = ("code", "name_th", "name_en", "description_th", "description_en", "levels", "thresholds")
THRESHOLD_FIELDS = {"default", "min", "max", "integer", "label_th", "label_en"}
LANGS = ("th", "en")
# placeholders every message may use, besides the rule's thresholds and its logic's own
COMMON_PARAMS = ("name_th", "name_en", "value", "threshold", "academic_year", "period_th", "period_en")


@dataclass(frozen=True)
class Threshold:
    name: str
    default: float | None  # None: the value of the Settings field `setting`
    setting: str | None
    minimum: float
    maximum: float
    integer: bool
    label_th: str
    label_en: str


@dataclass(frozen=True)
class Rule:
    code: str
    name_th: str
    name_en: str
    description_th: str
    description_en: str
    levels: tuple[str, ...]
    thresholds: tuple[Threshold, ...]
    messages: dict[str, dict[str, str]]  # variant -> {"th": template, "en": template}
    values: dict[str, float] = field(default_factory=dict)  # the effective thresholds

    def describe(self) -> dict[str, Any]:
        """The rule as the API shows it, with effective thresholds."""
        return {
            "code": self.code,
            "name_th": self.name_th,
            "name_en": self.name_en,
            "description_th": self.description_th,
            "description_en": self.description_en,
            "levels": list(self.levels),
            "thresholds": [
                {
                    "name": t.name,
                    "value": self.values[t.name],
                    "default": t.default,
                    "setting": t.setting,
                    "min": t.minimum,
                    "max": t.maximum,
                    "integer": t.integer,
                    "label_th": t.label_th,
                    "label_en": t.label_en,
                }
                for t in self.thresholds
            ],
        }


Rules = tuple[Rule, ...]


def rules(settings: Settings) -> Rules:
    """The rules with the deployment's thresholds, loaded once per file and settings."""
    defaults = tuple((name, getattr(settings, name)) for name in _setting_names(base_rules()))
    return _effective(settings.alert_rules_file, defaults)


@cache
def base_rules() -> Rules:
    return parse(json.loads(RULES_FILE.read_text("utf-8")))


@cache
def _effective(rules_file: str, defaults: tuple[tuple[str, float], ...]) -> Rules:
    overrides = read_json(rules_file) if rules_file else {}
    return with_overrides(base_rules(), overrides, dict(defaults), rules_file or "alert_rules.json")


def _setting_names(base: Rules) -> list[str]:
    return sorted({t.setting for rule in base for t in rule.thresholds if t.setting})


def parse(raw: Any) -> Rules:
    if not isinstance(raw, list) or not raw:
        raise ValueError("alert_rules.json: expected a non-empty list of rules")
    parsed = tuple(_rule(item) for item in raw)
    codes = [rule.code for rule in parsed]
    if len(set(codes)) != len(codes):
        raise ValueError(f"alert_rules.json: duplicate rule codes in {codes}")
    return parsed


def _rule(item: Any) -> Rule:
    where = f"alert_rules.json: {item.get('code') if isinstance(item, dict) else item!r}"
    if not isinstance(item, dict) or set(item) != {*RULE_FIELDS, "messages"}:
        raise ValueError(f"{where}: expected exactly the fields {', '.join(RULE_FIELDS)}, messages")
    for name in RULE_FIELDS[:5]:
        if not isinstance(item[name], str) or not item[name].strip():
            raise ValueError(f"{where}: {name} must be a non-empty string")
    known = LOGIC.get(item["code"])
    if known is None:
        raise ValueError(f"{where}: no rule logic for this code; known: {sorted(LOGIC)}")
    levels = item["levels"]
    if not isinstance(levels, list) or not levels or not set(levels) <= set(LEVELS):
        raise ValueError(f"{where}: levels must be a non-empty list of {LEVELS}")
    thresholds = _thresholds(item["thresholds"], known, where)
    rule = Rule(
        **{name: item[name] for name in RULE_FIELDS[:5]},
        levels=tuple(levels),
        thresholds=thresholds,
        messages=_messages(item["messages"], known, [t.name for t in thresholds], where),
    )
    return rule


def _thresholds(raw: Any, known: Logic, where: str) -> tuple[Threshold, ...]:
    if not isinstance(raw, dict) or set(raw) != set(known.thresholds):
        raise ValueError(f"{where}: thresholds must be exactly {list(known.thresholds)}")
    return tuple(_threshold(name, raw[name], f"{where}: thresholds.{name}") for name in known.thresholds)


def _threshold(name: str, spec: Any, where: str) -> Threshold:
    if not isinstance(spec, dict) or not THRESHOLD_FIELDS <= set(spec) <= {*THRESHOLD_FIELDS, "setting"}:
        raise ValueError(f"{where}: expected the fields {sorted(THRESHOLD_FIELDS)} (and optionally setting)")
    setting = spec.get("setting")
    if spec["default"] is None and not (isinstance(setting, str) and hasattr(Settings, setting)):
        raise ValueError(f"{where}: a null default needs `setting`, the name of a Settings field")
    if not (_is_number(spec["min"]) and _is_number(spec["max"]) and spec["min"] <= spec["max"]):
        raise ValueError(f"{where}: min and max must be numbers with min <= max")
    threshold = Threshold(
        name,
        spec["default"],
        setting,
        spec["min"],
        spec["max"],
        bool(spec["integer"]),
        spec["label_th"],
        spec["label_en"],
    )
    if threshold.default is not None:
        check_value(threshold, threshold.default, where)
    return threshold


def _messages(raw: Any, known: Logic, thresholds: list[str], where: str) -> dict[str, dict[str, str]]:
    """Every variant the logic produces, in both languages; a template using an unknown placeholder fails
    here, when the rules load, rather than when an alert fires."""
    if not isinstance(raw, dict) or set(raw) != set(known.variants):
        raise ValueError(f"{where}: messages must be exactly the variants {list(known.variants)}")
    sample = dict.fromkeys([*COMMON_PARAMS, *thresholds, *known.params], "x")
    for variant, texts in raw.items():
        if not isinstance(texts, dict) or set(texts) != set(LANGS):
            raise ValueError(f"{where}: messages.{variant} must have exactly {list(LANGS)}")
        for lang, template in texts.items():
            try:
                template.format(**sample)
            except (KeyError, IndexError, ValueError, AttributeError) as exc:
                raise ValueError(f"{where}: messages.{variant}.{lang}: bad placeholder {exc}") from exc
    return raw


def with_overrides(base: Rules, raw: Any, defaults: dict[str, float], origin: str) -> Rules:
    """`base` with effective thresholds: an override `{rule: {threshold: value}}` from `origin`, else the
    default, else the named setting."""
    if not isinstance(raw, dict):
        raise ValueError(f"{origin}: expected an object keyed by rule code")
    unknown = sorted(set(raw) - {rule.code for rule in base})
    if unknown:
        raise ValueError(f"{origin}: unknown alert rules {unknown}; known: {[r.code for r in base]}")
    return tuple(_resolved(rule, raw.get(rule.code, {}), defaults, f"{origin}: {rule.code}") for rule in base)


def _resolved(rule: Rule, change: Any, defaults: dict[str, float], where: str) -> Rule:
    names = [t.name for t in rule.thresholds]
    if not isinstance(change, dict) or not set(change) <= set(names):
        raise ValueError(f"{where}: expected an object with some of the thresholds {names}")
    values = {}
    for t in rule.thresholds:
        # an override, else the default, else the setting (an override of null is refused, not a default)
        value = change[t.name] if t.name in change else _default(t, defaults)
        values[t.name] = check_value(t, value, f"{where}.{t.name}")
    return Rule(**{**rule.__dict__, "values": values})


def _default(threshold: Threshold, defaults: dict[str, float]) -> Any:
    return defaults[threshold.setting or ""] if threshold.default is None else threshold.default


def check_value(threshold: Threshold, value: Any, where: str) -> float:
    if not _is_number(value) or not threshold.minimum <= value <= threshold.maximum:
        raise ValueError(
            f"{where}: expected a number from {threshold.minimum} to {threshold.maximum}, got {value!r}"
        )
    if threshold.integer and not float(value).is_integer():
        raise ValueError(f"{where}: expected a whole number, got {value!r}")
    return int(value) if threshold.integer else value


def read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise ValueError(f"alert rules file {path!r} cannot be read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"alert rules file {path!r} is not valid JSON: {exc}") from exc


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
