"""How events become live views: the monitoring projection's fold.

Two collections:
- `units`: the org tree (school → cluster → ESA area → province → national) from directory events, with
  each unit's names, parent and number of schools;
- `views`: one document per (level, unit, period) holding counters; means and shares are derived on read,
  so every change is a commutative increment that folds and merges cleanly within a batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geothai

from shared.projection import Change, Lookup
from shared.settings import TOPICS

UNITS = "units"
VIEWS = "views"
NATIONAL = "TH"
LEVELS = ("school", "cluster", "esa", "province", "national")
PARENT_LEVEL = {"school": "cluster", "cluster": "esa", "esa": "province", "province": "national"}
ORG_FIELD = {"school": "school_code", "cluster": "cluster_id", "esa": "esa_code", "province": "province_code"}


def unit_key(level: str, code: str) -> str:
    return f"{level}:{code}"


def view_key(level: str, code: str, period: dict[str, int]) -> str:
    return f"{level}:{code}:{period['academic_year']}-{period['semester']}"


def levels_of(org: dict[str, Any]) -> list[tuple[str, str]]:
    """(level, code) for every unit on an org path, from the school up to the nation."""
    pairs = [(level, org.get(field)) for level, field in ORG_FIELD.items()]
    return [(level, code) for level, code in pairs if code] + [("national", NATIONAL)]


class MonitoringProjection:
    def __init__(self, topics: list[str] | None = None) -> None:
        self.topics = topics or [TOPICS["directory"], TOPICS["supervision"]]

    def fold(self, events: list[dict[str, Any]], lookup: Lookup) -> list[Change]:
        batch = _Batch(events, lookup)
        for event in events:
            handler = HANDLERS.get(event["event_type"])
            if handler is not None:
                handler(batch, event)
        return batch.changes


class _Batch:
    """Fold state for one batch: the changes so far plus what earlier events of the batch already did."""

    def __init__(self, events: list[dict[str, Any]], lookup: Lookup) -> None:
        self.changes: list[Change] = []
        self.schools = self._known_schools(events, lookup)
        self.visited = self._visited_schools(events, lookup)

    @staticmethod
    def _known_schools(events: list[dict[str, Any]], lookup: Lookup) -> dict[str, dict[str, Any]]:
        codes = [e["payload"]["school_code"] for e in events if e["event_type"] == "directory.SchoolRecorded"]
        found = lookup(UNITS, [unit_key("school", c) for c in codes]) if codes else {}
        return {doc["code"]: doc.get("org", {}) for doc in found.values()}

    @staticmethod
    def _visited_schools(events: list[dict[str, Any]], lookup: Lookup) -> set[str]:
        keys = [
            view_key("school", e["payload"]["school_code"], e["payload"]["period"])
            for e in events
            if e["event_type"] == "supervision.VisitCompleted"
        ]
        found = lookup(VIEWS, keys) if keys else {}
        return {key for key, doc in found.items() if doc.get("supervision", {}).get("visits_done", 0) > 0}

    def unit(self, level: str, code: str, **fields: Any) -> None:
        self.changes.append(
            Change(UNITS, unit_key(level, code), set={"level": level, "code": code, **fields})
        )

    def count_schools(self, org: dict[str, Any], delta: int) -> None:
        for level, code in levels_of(org)[1:]:
            self.changes.append(Change(UNITS, unit_key(level, code), inc={"schools_total": delta}))

    def views(self, event: dict[str, Any], org: dict[str, Any], **change: Any) -> None:
        """Apply the same change to the view of every level on `org`, stamping freshness."""
        period = event["payload"]["period"]
        for level, code in levels_of(org):
            self.view(level, code, period, org, event, **change)

    def view(
        self,
        level: str,
        code: str,
        period: dict[str, int],
        org: dict[str, Any],
        event: dict[str, Any],
        **change: Any,
    ) -> None:
        ancestors = {
            f: org.get(f) for lvl, f in ORG_FIELD.items() if LEVELS.index(lvl) >= LEVELS.index(level)
        }
        self.changes.append(
            Change(
                VIEWS,
                view_key(level, code, period),
                inc={f"supervision.{k}": v for k, v in change.get("inc", {}).items()},
                max={"as_of": event["occurred_at"], **change.get("max", {})},
                set={"level": level, "code": code, "period": period, "org": ancestors},
            )
        )


# --- directory events: the org tree -------------------------------------------------------------------


def _province(batch: _Batch, code: str) -> None:
    province = geothai.province(code)
    names = (
        {"name_th": province.name_th, "name_en": province.name_en}
        if province
        else {"name_th": code, "name_en": code}
    )
    batch.unit("province", code, parent=unit_key("national", NATIONAL), org={"province_code": code}, **names)
    batch.unit("national", NATIONAL, parent=None, org={}, name_th="ประเทศไทย", name_en="Thailand")


def on_esa_area(batch: _Batch, event: dict[str, Any]) -> None:
    p = event["payload"]
    _province(batch, p["province_code"])
    batch.unit(
        "esa",
        p["esa_code"],
        name_th=p["name_th"],
        name_en=p["name_en"],
        kind=p["level"],
        parent=unit_key("province", p["province_code"]),
        org={"esa_code": p["esa_code"], "province_code": p["province_code"]},
    )


def on_cluster(batch: _Batch, event: dict[str, Any]) -> None:
    p = event["payload"]
    batch.unit(
        "cluster",
        p["cluster_id"],
        name_th=p["name_th"],
        name_en=p["name_en"],
        models=p["models"],
        parent=unit_key("esa", p["esa_code"]),
        org={"cluster_id": p["cluster_id"], "esa_code": p["esa_code"], "province_code": p["province_code"]},
    )


def on_school(batch: _Batch, event: dict[str, Any]) -> None:
    p = event["payload"]
    org = event["org"]
    previous = batch.schools.get(p["school_code"])
    if previous != org:  # a new school, or one that moved: recount the schools of both paths
        if previous is not None:
            batch.count_schools(previous, -1)
        batch.count_schools(org, +1)
        batch.schools[p["school_code"]] = org
    parent = unit_key("cluster", p["cluster_id"]) if p.get("cluster_id") else unit_key("esa", p["esa_code"])
    batch.unit(
        "school",
        p["school_code"],
        name_th=p["name_th"],
        name_en=p["name_en"],
        size_category=p["size_category"],
        students=p["students"],
        teachers=p["teachers"],
        amphoe=p.get("amphoe", ""),
        parent=parent,
        org=org,
    )


# --- supervision events: activity counters --------------------------------------------------------------


def on_visit_scheduled(batch: _Batch, event: dict[str, Any]) -> None:
    batch.views(event, event["org"], inc={"visits_planned": 1})


def on_visit_completed(batch: _Batch, event: dict[str, Any]) -> None:
    p = event["payload"]
    inc: dict[str, float] = {
        "visits_done": 1,
        f"visits_{p['mode']}": 1,
        "teachers_observed": len(p["teachers_observed"]),
    }
    for domain, score in p["rubric_scores"].items():
        inc[f"rubric.{domain}.sum"] = score
        inc[f"rubric.{domain}.count"] = 1
    key = view_key("school", p["school_code"], p["period"])
    if key not in batch.visited:  # the school's first visit this semester raises coverage on every level
        batch.visited.add(key)
        inc["schools_visited"] = 1
    batch.views(event, event["org"], inc=inc, max={"supervision.last_visit_date": p["visit_date"]})


def on_visit_cancelled(batch: _Batch, event: dict[str, Any]) -> None:
    batch.views(event, event["org"], inc={"visits_cancelled": 1})


def on_coaching(batch: _Batch, event: dict[str, Any]) -> None:
    p = event["payload"]
    batch.views(event, event["org"], inc={f"{p['kind']}_sessions": 1, f"{p['kind']}_minutes": p["minutes"]})


def on_plc(batch: _Batch, event: dict[str, Any]) -> None:
    p = event["payload"]
    cluster_org = {**event["org"], "school_code": None}
    batch.views(event, cluster_org, inc={"plc_sessions": 1, "plc_teachers": p["teacher_count"]})
    for school_code in p["school_codes"]:
        org = {**cluster_org, "school_code": school_code}
        batch.view("school", school_code, p["period"], org, event, inc={"plc_sessions": 1})


def on_plan(batch: _Batch, event: dict[str, Any]) -> None:
    p = event["payload"]
    batch.views(event, event["org"], inc={"plans": 1, "schools_targeted": len(p["target_school_codes"])})


def on_finding(batch: _Batch, event: dict[str, Any]) -> None:
    batch.views(event, event["org"], inc={"findings": 1})


def on_follow_up_opened(batch: _Batch, event: dict[str, Any]) -> None:
    batch.views(event, event["org"], inc={"follow_ups_opened": 1, "follow_ups_open": 1})


def on_follow_up_overdue(batch: _Batch, event: dict[str, Any]) -> None:
    batch.views(event, event["org"], inc={"follow_ups_overdue": 1})


def on_follow_up_completed(batch: _Batch, event: dict[str, Any]) -> None:
    inc = {"follow_ups_completed": 1, "follow_ups_open": -1}
    if event["payload"]["was_overdue"]:
        inc["follow_ups_overdue"] = -1
    batch.views(event, event["org"], inc=inc)


HANDLERS: dict[str, Callable[[_Batch, dict[str, Any]], None]] = {
    "directory.EsaAreaRecorded": on_esa_area,
    "directory.ClusterRecorded": on_cluster,
    "directory.SchoolRecorded": on_school,
    "supervision.PlanCreated": on_plan,
    "supervision.VisitScheduled": on_visit_scheduled,
    "supervision.VisitCompleted": on_visit_completed,
    "supervision.VisitCancelled": on_visit_cancelled,
    "supervision.CoachingSessionRecorded": on_coaching,
    "supervision.PlcSessionRecorded": on_plc,
    "supervision.FindingRecorded": on_finding,
    "supervision.FollowUpOpened": on_follow_up_opened,
    "supervision.FollowUpOverdue": on_follow_up_overdue,
    "supervision.FollowUpCompleted": on_follow_up_completed,
}
