"""Read-side queries over the views: one unit's figures and its children for drill-down, and projector lag."""

from __future__ import annotations

from collections import defaultdict
from copy import deepcopy
from dataclasses import dataclass
from datetime import date
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from pymongo.database import Database

from services.monitoring.achievement_figures import Section, achievement_figures, latest_year
from services.monitoring.figures import committee_figures, supervision_figures, training_figures
from services.monitoring.figures_cache import FiguresCache
from services.monitoring.views import (
    LEVELS,
    NATIONAL,
    SHARDED_LEVELS,
    UNITS,
    VIEWS,
    add_shards,
    find_merged,
    levels_of,
    unit_key,
    view_key,
)
from shared.achievement_tests import RESULT_SEMESTER
from shared.auth import Principal
from shared.calendar import Period, period_of, terms, today
from shared.envelope import Org, utcnow
from shared.errors import NotFound
from shared.projection import POSITIONS
from shared.settings import Settings

MAX_CHILDREN = 1000
MAX_CODE = 40
RESULTS_LOOKBACK = 3  # years searched back for the latest results (one more is read for the change)
ACHIEVEMENT_FIELDS = {"level": 1, "code": 1, "period": 1, "achievement": 1}
Results = dict[tuple[str, str | None], dict[int, Section]]  # (level, code) -> results year -> section


@dataclass(frozen=True)
class ReadOptions:
    """How period-independent figures are judged: committees inactive for more than `inactive_days` and days
    since a visit as of `today` (Thai calendar); results with fewer than `min_tested` pupils are hidden from
    readers outside the unit's ESA area."""

    inactive_days: int
    today: date
    min_tested: int = 5


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
    cache: FiguresCache | None = None,
) -> dict[str, Any]:
    """A unit's figures for a period, with its children's; units outside the caller's scope are not found.
    Without `options`: the configured thresholds, as of today."""
    unit = scoped_unit(db, caller, level, code)
    children = _children(db, unit)
    figures = figures_of(
        db, [unit, *children], period, options or default_options(), viewer=caller, cache=cache
    )
    as_of = figures[0]["as_of"]
    return {
        **figures[0],
        "parent": _parent(unit),
        "ancestors": ancestors(db, unit, caller),
        "period": period_dict(period),
        "age_seconds": (utcnow() - as_of).total_seconds() if as_of else None,
        "children": figures[1:],
    }


def _children(db: Database, unit: dict[str, Any]) -> list[dict[str, Any]]:
    """The units directly below, by code (a school has none: no read)."""
    if unit["level"] == LEVELS[0]:
        return []
    return list(db[UNITS].find({"parent": unit["_id"]}).sort("code", 1).limit(MAX_CHILDREN))


def default_options() -> ReadOptions:
    return ReadOptions(Settings.committee_inactive_days, today(), Settings.achievement_min_tested)


def scoped_unit(db: Database, caller: Principal, level: str, code: str) -> dict[str, Any]:
    """The unit document, if it exists and the caller's scope covers it."""
    if level not in LEVELS or not 0 < len(code) <= MAX_CODE:
        raise NotFound("unknown level")
    unit = db[UNITS].find_one({"_id": unit_key(level, code)})
    if unit is None or not caller.covers(Org.from_dict(unit.get("org", {}))):
        raise NotFound(f"no {level} {code!r} in your scope")
    return unit


def figures_of(
    db: Database,
    units: list[dict[str, Any]],
    period: Period,
    options: ReadOptions,
    viewer: Principal | None = None,
    cache: FiguresCache | None = None,
) -> list[dict[str, Any]]:
    """The figures of each unit document for `period`, in a few reads whatever the number of units.
    `viewer` None is the platform itself (alerts, analyses): it sees small cells. With a `cache`, figures
    already computed at the projector's current positions are reused (read-only: copy before changing)."""

    def compute() -> list[dict[str, Any]]:
        views = _views(db, units, period)
        results = _results(db, units, results_year(period))
        committees = _committees(db, units)
        return [_unit_figures(u, views, results, committees, period, options, viewer) for u in units]

    if cache is None:
        return compute()
    # what the figures depend on besides the views: the units, the period, the thresholds, and which units'
    # small cells the viewer may see
    visible = tuple(sees_small_cells(viewer, u.get("org", {})) for u in units)
    key = (tuple(u["_id"] for u in units), period, options, visible)
    return cache.figures(db, key, compute)


def results_year(period: Period) -> int:
    """The latest academic year whose results can be known in `period` (tests are sat in semester 2)."""
    return period.academic_year if period.semester == RESULT_SEMESTER else period.academic_year - 1


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
        for doc in find_merged(db[VIEWS], keys, fields={"achievement": 0}).values()
    }


def _committees(db: Database, units: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each unit's committee counters, with those of its shards added in (read only for sharded units)."""
    committees = {u["_id"]: u.get("committees") or {} for u in units}
    # the unit documents are the caller's: shards are added into copies
    sharded = {
        u["_id"]: {"committees": deepcopy(committees[u["_id"]])}
        for u in units
        if u["level"] in SHARDED_LEVELS
    }
    add_shards(db[UNITS], sharded, list(sharded), fields={"committees": 1})
    return {**committees, **{key: doc["committees"] for key, doc in sharded.items()}}


def _results(db: Database, units: list[dict[str, Any]], up_to: int) -> Results:
    """The `achievement` sections of the units, their provinces and the nation for the results years that can
    matter (the latest up to `up_to`, a few back, and the year before it), in one read, by unit."""
    wanted = {(u["level"], u["code"]) for u in units} | {("national", NATIONAL)}
    wanted |= {("province", p) for u in units if (p := u.get("org", {}).get("province_code"))}
    keys = [
        view_key(level, code, {"academic_year": year, "semester": RESULT_SEMESTER})
        for level, code in wanted
        for year in range(up_to - RESULTS_LOOKBACK - 1, up_to + 1)
    ]
    found = find_merged(db[VIEWS], keys, {"achievement": {"$exists": True}}, ACHIEVEMENT_FIELDS)
    results: Results = defaultdict(dict)
    for d in found.values():
        results[d["level"], d["code"]][d["period"]["academic_year"]] = d["achievement"]
    return results


def latest_results_year(db: Database, unit: dict[str, Any], up_to: int) -> int | None:
    """The latest results year up to `up_to` in which the unit has results."""
    results = _results(db, [unit], up_to)
    return latest_year(results[unit["level"], unit["code"]], up_to)


def _unit_figures(
    unit: dict[str, Any],
    views: dict[tuple[str, str, int], dict[str, Any]],
    results: Results,
    committees: dict[str, dict[str, Any]],
    period: Period,
    options: ReadOptions,
    viewer: Principal | None,
) -> dict[str, Any]:
    view = views.get((unit["level"], unit["code"], period.semester))
    earlier = views.get((unit["level"], unit["code"], 1)) if period.semester == 2 else None
    school = unit["level"] == "school"
    schools_total = 1 if school else unit.get("schools_total", 0)
    teachers_total = unit.get("teachers", 0) if school else unit.get("teachers_total", 0)
    org = unit.get("org", {})
    return {
        "level": unit["level"],
        "code": unit["code"],
        "name_th": unit.get("name_th", unit["code"]),
        "name_en": unit.get("name_en", unit["code"]),
        "org": org,
        "as_of": view.get("as_of") if view else None,
        "supervision": supervision_figures(view, schools_total, unit.get("latest_visit_date"), options.today),
        "training": training_figures(view, teachers_total, earlier),
        "committee": committee_figures(view, committees[unit["_id"]], options.today, options.inactive_days),
        "achievement": achievement_figures(
            results.get((unit["level"], unit["code"]), {}),
            results.get(("province", org.get("province_code")), {}),
            results.get(("national", NATIONAL), {}),
            up_to=results_year(period),
            min_tested=options.min_tested,
            small_cells_visible=sees_small_cells(viewer, org),
        ),
    }


# An anonymous reader of the public pages. `figures_of(viewer=None)` is the platform, which sees small cells,
# so public reads pass this explicitly; its national scope level is never in an ESA area (no small cells).
OUTSIDER = Principal(sub="public", name="public", role="public", scope_level="national", scope_code=None)


def sees_small_cells(viewer: Principal | None, org: dict[str, Any]) -> bool:
    """The platform, and staff of the unit's ESA area or of a unit inside it, see the unit's small cells."""
    if viewer is None:
        return True
    return viewer.scope_level in ("school", "cluster", "esa") and viewer.covers(Org.from_dict(org))


def ancestors(db: Database, unit: dict[str, Any], caller: Principal) -> list[dict[str, Any]]:
    """The units above `unit`, national first down to its parent, with their names (one read): breadcrumbs.
    `in_scope` tells whether the caller may open that unit (a school director may not open the province)."""
    below = LEVELS.index(unit["level"])
    path = [(lvl, c) for lvl, c in levels_of(unit.get("org", {})) if LEVELS.index(lvl) > below][::-1]
    keys = [unit_key(lvl, c) for lvl, c in path]
    if not keys:
        return []  # the nation: nothing above, no read
    docs = {
        d["_id"]: d for d in db[UNITS].find({"_id": {"$in": keys}}, {"name_th": 1, "name_en": 1, "org": 1})
    }
    return [
        {
            "level": lvl,
            "code": c,
            "name_th": docs.get(key, {}).get("name_th", c),
            "name_en": docs.get(key, {}).get("name_en", c),
            "in_scope": caller.covers(Org.from_dict(docs.get(key, {}).get("org", {}))),
        }
        for (lvl, c), key in zip(path, keys, strict=True)
    ]


def _parent(unit: dict[str, Any]) -> dict[str, str] | None:
    if not unit.get("parent"):
        return None
    level, _, code = unit["parent"].partition(":")
    return {"level": level, "code": code}


def projector_lag(
    db: Database, group: str, consumer: KafkaConsumer | None, timeout_ms: int | None = None
) -> dict[str, Any]:
    """Per partition: the projector's stored position against the broker's end offset. `timeout_ms` bounds
    the broker call (KafkaTimeoutError beyond it); None is the consumer's request timeout."""
    positions = list(db[POSITIONS].find({"group": group}).sort([("topic", 1), ("partition", 1)]))
    ends: dict[TopicPartition, int] = {}
    if consumer is not None:
        partitions = [TopicPartition(p["topic"], p["partition"]) for p in positions]
        ends = consumer.end_offsets(partitions, timeout_ms=timeout_ms)
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
