"""Build realistic integration events for tests: through the real envelope, serializer and catalog."""

from __future__ import annotations

from typing import Any

from shared.catalog import catalog
from shared.envelope import Org, new_event

PERIOD = {"academic_year": 2569, "semester": 2}


def school_org(
    school: str = "13010001", cluster: str | None = "13P1-C01", esa: str = "13P1", province: str = "13"
) -> Org:
    return Org(school, cluster, esa, province)


def event(event_type: str, payload: dict[str, Any], org: Org, aggregate_id: str = "agg-1") -> dict[str, Any]:
    """An event as a consumer sees it after the wire: serialized, parsed and validated."""
    return catalog.decode(wire(event_type, payload, org, aggregate_id))


def wire(event_type: str, payload: dict[str, Any], org: Org, aggregate_id: str = "agg-1") -> bytes:
    raw = new_event(
        event_type=event_type,
        event_version=catalog.latest_version(event_type),
        producer=event_type.split(".")[0],
        aggregate_id=aggregate_id,
        aggregate_version=1,
        org=org,
        payload=payload,
        actor="test",
    )
    catalog.check(raw)
    return catalog.serialize(raw)


def school_recorded(
    code: str = "13010001", cluster: str | None = "13P1-C01", esa: str = "13P1"
) -> dict[str, Any]:
    org = school_org(code, cluster, esa)
    payload = {
        "school_code": code,
        "name_th": f"โรงเรียน {code}",
        "name_en": f"School {code}",
        "esa_code": esa,
        "cluster_id": cluster,
        "province_code": "13",
        "amphoe": "Mueang",
        "size_category": "small",
        "students": 100,
        "teachers": 6,
        "effective_from": "2026-05-16",
    }
    return event("directory.SchoolRecorded", payload, org, aggregate_id=code)


def visit_completed(
    school: str = "13010001",
    visit_id: str = "V1",
    scores: dict[str, float] | None = None,
    cluster: str | None = "13P1-C01",
    esa: str = "13P1",
) -> dict[str, Any]:
    payload = {
        "visit_id": visit_id,
        "school_code": school,
        "visit_date": "2026-11-20",
        "mode": "onsite",
        "rubric_scores": scores or {"learning_design": 3, "assessment": 2},
        "teachers_observed": ["T13010001-01"],
        "period": PERIOD,
    }
    return event(
        "supervision.VisitCompleted", payload, school_org(school, cluster, esa), aggregate_id=visit_id
    )
