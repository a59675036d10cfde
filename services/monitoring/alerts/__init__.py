"""Alerts: rules kept as data (`rules.py`, `alert_rules.json`), their conditions judged on one unit's figures
(`conditions.py`), and the open or cleared state of each alert with its events (`state.py`)."""

from services.monitoring.alerts.conditions import Context, Verdict, applicable, firing, judge, read_options
from services.monitoring.alerts.rules import RULES_FILE, Rule, Rules, base_rules, parse, rules, with_overrides
from services.monitoring.alerts.state import (
    ALERTS,
    NEWEST_FIRST,
    STATUSES,
    Tally,
    ensure_indexes,
    evaluate_units,
    list_query,
    summary,
)

__all__ = [
    "ALERTS",
    "NEWEST_FIRST",
    "RULES_FILE",
    "STATUSES",
    "Context",
    "Rule",
    "Rules",
    "Tally",
    "Verdict",
    "applicable",
    "base_rules",
    "ensure_indexes",
    "evaluate_units",
    "firing",
    "judge",
    "list_query",
    "parse",
    "read_options",
    "rules",
    "summary",
    "with_overrides",
]
