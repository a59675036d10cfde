"""Directory events build the org tree: unit names, parents and the number of schools per unit."""

from __future__ import annotations

from typing import Any

import geothai

from services.monitoring.views import NATIONAL, UNITS, Event, ViewBatch, levels_of, unit_key


def preload(events: list[Event]) -> dict[str, list[str]]:
    """The stored school units, to tell a new or moved school from a re-published one."""
    codes = [e["payload"]["school_code"] for e in events if e["event_type"] == "directory.SchoolRecorded"]
    return {UNITS: [unit_key("school", c) for c in codes]}


def _count(batch: ViewBatch, org: dict[str, Any], schools: int, teachers: int) -> None:
    """Add schools and teachers to every unit above a school (a school's own count is its record)."""
    for level, code in levels_of(org)[1:]:
        batch.change(UNITS, unit_key(level, code), inc={"schools_total": schools, "teachers_total": teachers})


def _province(batch: ViewBatch, code: str) -> None:
    province = geothai.province(code)
    names = (
        {"name_th": province.name_th, "name_en": province.name_en}
        if province
        else {"name_th": code, "name_en": code}
    )
    batch.unit("province", code, parent=unit_key("national", NATIONAL), org={"province_code": code}, **names)
    batch.unit("national", NATIONAL, parent=None, org={}, name_th="ประเทศไทย", name_en="Thailand")


def on_esa_area(batch: ViewBatch, event: Event) -> None:
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


def on_cluster(batch: ViewBatch, event: Event) -> None:
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


def on_school(batch: ViewBatch, event: Event) -> None:
    p = event["payload"]
    org = event["org"]
    key = unit_key("school", p["school_code"])
    known = batch.doc(UNITS, key)
    previous, previous_teachers = (known.get("org"), known.get("teachers", 0)) if known else (None, 0)
    if previous != org:  # a new school, or one that moved: recount both paths
        if previous is not None:
            _count(batch, previous, -1, -previous_teachers)
        _count(batch, org, +1, p["teachers"])
    elif previous_teachers != p["teachers"]:
        _count(batch, org, 0, p["teachers"] - previous_teachers)
    batch.remember(UNITS, key, {"org": org, "teachers": p["teachers"]})
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


HANDLERS = {
    "directory.EsaAreaRecorded": on_esa_area,
    "directory.ClusterRecorded": on_cluster,
    "directory.SchoolRecorded": on_school,
}
