"""Read-side queries over the views: one unit's figures and its children for drill-down, and projector lag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from pymongo.database import Database

from services.monitoring.figures import committee_figures, supervision_figures, training_figures
from services.monitoring.views import UNITS, VIEWS, unit_key, view_key
from shared.auth import Principal
from shared.calendar import Period, period_of, terms, today
from shared.envelope import Org, utcnow
from shared.errors import NotFound
from shared.projection import POSITIONS
from shared.settings import Settings

MAX_CHILDREN = 1000


@dataclass(frozen=True)
class ReadOptions:
    """How period-independent figures are judged: committees inactive for more than `inactive_days` as of
    `today` (Thai calendar)."""

    inactive_days: int
    today: date


def current_period() -> Period:
    return period_of(today())


def period_dict(period: Period) -> dict[str, Any]:
    return {**period.as_dict(), "label_th": period.label("th"), "label_en": period.label("en")}


def all_periods() -> dict[str, Any]:
    return {"current": period_dict(current_period()), "periods": [period_dict(t.period) for t in terms()]}


def read_view(
    db: Database,
    caller: Principal,
    level: str,
    code: str,
    period: Period,
    options: ReadOptions | None = None,
) -> dict[str, Any]:
    """A unit's figures for a period, with its children's; units outside the caller's scope are not found.
    Without `options`: the default inactivity threshold, as of today."""
    options = options or ReadOptions(Settings.committee_inactive_days, today())
    unit = db[UNITS].find_one({"_id": unit_key(level, code)})
    if unit is None or not caller.covers(Org.from_dict(unit.get("org", {}))):
        raise NotFound(f"no {level} {code!r} in your scope")
    children = list(db[UNITS].find({"parent": unit["_id"]}).sort("code", 1).limit(MAX_CHILDREN))
    views = _views(db, [unit, *children], period)
    view = views.get((unit["level"], unit["code"], period.semester))
    as_of = view.get("as_of") if view else None
    return {
        **_unit_figures(unit, views, period, options),
        "parent": _parent(unit),
        "period": period_dict(period),
        "age_seconds": (utcnow() - as_of).total_seconds() if as_of else None,
        "children": [_unit_figures(c, views, period, options) for c in children],
    }


def _views(
    db: Database, units: list[dict[str, Any]], period: Period
) -> dict[tuple[str, str, int], dict[str, Any]]:
    """The units' views of `period` and of the semesters before it in the same academic year, in one read."""
    semesters = range(1, period.semester + 1)
    keys = [
        view_key(u["level"], u["code"], {"academic_year": period.academic_year, "semester": s})
        for u in units
        for s in semesters
    ]
    return {
        (doc["level"], doc["code"], doc["period"]["semester"]): doc
        for doc in db[VIEWS].find({"_id": {"$in": keys}})
    }


def _unit_figures(
    unit: dict[str, Any],
    views: dict[tuple[str, str, int], dict[str, Any]],
    period: Period,
    options: ReadOptions,
) -> dict[str, Any]:
    view = views.get((unit["level"], unit["code"], period.semester))
    earlier = views.get((unit["level"], unit["code"], 1)) if period.semester == 2 else None
    school = unit["level"] == "school"
    schools_total = 1 if school else unit.get("schools_total", 0)
    teachers_total = unit.get("teachers", 0) if school else unit.get("teachers_total", 0)
    return {
        "level": unit["level"],
        "code": unit["code"],
        "name_th": unit.get("name_th", unit["code"]),
        "name_en": unit.get("name_en", unit["code"]),
        "as_of": view.get("as_of") if view else None,
        "supervision": supervision_figures(view, schools_total),
        "training": training_figures(view, teachers_total, earlier),
        "committee": committee_figures(view, unit.get("committees"), options.today, options.inactive_days),
    }


def _parent(unit: dict[str, Any]) -> dict[str, str] | None:
    if not unit.get("parent"):
        return None
    level, _, code = unit["parent"].partition(":")
    return {"level": level, "code": code}


def projector_lag(db: Database, group: str, consumer: KafkaConsumer | None) -> dict[str, Any]:
    """Per partition: the projector's stored position against the broker's end offset."""
    positions = list(db[POSITIONS].find({"group": group}).sort([("topic", 1), ("partition", 1)]))
    ends: dict[TopicPartition, int] = {}
    if consumer is not None:
        ends = consumer.end_offsets([TopicPartition(p["topic"], p["partition"]) for p in positions])
    rows = []
    for p in positions:
        end = ends.get(TopicPartition(p["topic"], p["partition"]))
        position = p["offset"] + 1
        rows.append(
            {
                "topic": p["topic"],
                "partition": p["partition"],
                "position": position,
                "end_offset": end,
                "lag": max(end - position, 0) if end is not None else None,
                "updated_at": p.get("updated_at"),
            }
        )
    lags = [r["lag"] for r in rows]
    total = sum(lags) if consumer is not None and None not in lags else None
    return {"group": group, "total_lag": total, "broker_reachable": consumer is not None, "partitions": rows}
