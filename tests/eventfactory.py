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


# --- community-engaged committees (committee.events) ---------------------------------------------------

NETWORK = "network"
SCHOOL_BOARD = "school_board"


def committee_org(kind: str = SCHOOL_BOARD, school: str = "13010001", cluster: str = "13P1-C01") -> Org:
    """A school board sits at its school's path; a network committee at its cluster's, with no school."""
    esa = cluster.split("-")[0]
    return Org(school if kind == SCHOOL_BOARD else None, cluster, esa, esa[:2])


def committee_event(
    event_type: str, payload: dict[str, Any], org: Org, period: dict[str, int] | None = None
) -> dict[str, Any]:
    return event(
        f"committee.{event_type}", {**payload, "period": period or PERIOD}, org, payload["committee_id"]
    )


def committee_wire(
    event_type: str, payload: dict[str, Any], org: Org, period: dict[str, int] | None = None
) -> bytes:
    return wire(
        f"committee.{event_type}", {**payload, "period": period or PERIOD}, org, payload["committee_id"]
    )


def committee_established_payload(
    committee_id: str = "CM1",
    kind: str = SCHOOL_BOARD,
    org: Org | None = None,
    established_date: str = "2026-11-02",
) -> dict[str, Any]:
    org = org or committee_org(kind)
    return {
        "committee_id": committee_id,
        "kind": kind,
        "name_th": f"คณะกรรมการ {committee_id}",
        "name_en": f"Committee {committee_id}",
        "school_code": org.school_code,
        "cluster_id": org.cluster_id,
        "seats": 9,
        "established_date": established_date,
    }


def committee_established(
    committee_id: str = "CM1",
    kind: str = SCHOOL_BOARD,
    org: Org | None = None,
    established_date: str = "2026-11-02",
) -> dict[str, Any]:
    org = org or committee_org(kind)
    payload = committee_established_payload(committee_id, kind, org, established_date)
    return committee_event("CommitteeEstablished", payload, org)


def attendance(**by_group: tuple[int, int, int]) -> list[dict[str, str]]:
    """Attendance rows from (present, absent, excused) counts per stakeholder group."""
    rows = []
    for group, counts in by_group.items():
        for status, n in zip(("present", "absent", "excused"), counts, strict=True):
            rows += [
                {"member_id": f"{group}-{status}-{i}", "stakeholder_group": group, "status": status}
                for i in range(n)
            ]
    return rows


def meeting_held_payload(
    committee_id: str = "CM1",
    meeting_id: str = "M1",
    kind: str = SCHOOL_BOARD,
    meeting_date: str = "2026-11-20",
    rows: list[dict[str, str]] | None = None,
    quorum_reached: bool = True,
) -> dict[str, Any]:
    rows = rows if rows is not None else attendance(parent=(2, 1, 0), teacher=(3, 0, 1))
    return {
        "meeting_id": meeting_id,
        "committee_id": committee_id,
        "committee_kind": kind,
        "meeting_date": meeting_date,
        "members_total": max(len(rows), 1),
        "quorum_required": max(len(rows) // 2, 1),
        "quorum_reached": quorum_reached,
        "attendance": rows,
    }


def meeting_held(
    committee_id: str = "CM1",
    meeting_id: str = "M1",
    kind: str = SCHOOL_BOARD,
    meeting_date: str = "2026-11-20",
    rows: list[dict[str, str]] | None = None,
    quorum_reached: bool = True,
    org: Org | None = None,
    period: dict[str, int] | None = None,
) -> dict[str, Any]:
    payload = meeting_held_payload(committee_id, meeting_id, kind, meeting_date, rows, quorum_reached)
    return committee_event("MeetingHeld", payload, org or committee_org(kind), period)


def meeting_scheduled(
    committee_id: str = "CM1",
    meeting_id: str = "M1",
    org: Org | None = None,
    meeting_date: str = "2026-11-20",
) -> dict[str, Any]:
    payload = {
        "meeting_id": meeting_id,
        "committee_id": committee_id,
        "meeting_date": meeting_date,
        "agenda": ["1"],
    }
    return committee_event("MeetingScheduled", payload, org or committee_org())


def meeting_cancelled(
    committee_id: str = "CM1",
    meeting_id: str = "M1",
    org: Org | None = None,
    meeting_date: str = "2026-11-20",
) -> dict[str, Any]:
    payload = {"meeting_id": meeting_id, "committee_id": committee_id, "meeting_date": meeting_date}
    return committee_event("MeetingCancelled", payload, org or committee_org())


def resolution_adopted(
    committee_id: str = "CM1", resolution_id: str = "R1", meeting_id: str = "M1", org: Org | None = None
) -> dict[str, Any]:
    payload = {
        "resolution_id": resolution_id,
        "meeting_id": meeting_id,
        "committee_id": committee_id,
        "adopted_date": "2026-11-20",
        "title": "ปรับปรุงห้องสมุด",
    }
    return committee_event("ResolutionAdopted", payload, org or committee_org())


def action_item_created(
    committee_id: str = "CM1", action_item_id: str = "A1", org: Org | None = None
) -> dict[str, Any]:
    payload = {
        "action_item_id": action_item_id,
        "resolution_id": "R1",
        "committee_id": committee_id,
        "owner_kind": "school",
        "owner_id": "13010001",
        "due_date": "2026-12-15",
    }
    return committee_event("ActionItemCreated", payload, org or committee_org())


def action_item_overdue(
    committee_id: str = "CM1", action_item_id: str = "A1", org: Org | None = None
) -> dict[str, Any]:
    payload = {"action_item_id": action_item_id, "committee_id": committee_id, "due_date": "2026-12-15"}
    return committee_event("ActionItemOverdue", payload, org or committee_org())


def action_item_completed(
    committee_id: str = "CM1", action_item_id: str = "A1", was_overdue: bool = False, org: Org | None = None
) -> dict[str, Any]:
    payload = {
        "action_item_id": action_item_id,
        "committee_id": committee_id,
        "completed_date": "2026-12-20",
        "was_overdue": was_overdue,
    }
    return committee_event("ActionItemCompleted", payload, org or committee_org())


# --- student achievement (achievement.events) ----------------------------------------------------------


def result_recorded(
    school: str = "13010001",
    year: int = 2568,
    mean: float = 40.0,
    tested: int = 30,
    subject: str = "math",
    grade: str = "P6",
    test: str = "onet",
    replaces: dict[str, float] | None = None,
    cluster: str | None = "13P1-C01",
    esa: str = "13P1",
    province: str = "13",
) -> dict[str, Any]:
    result_id = f"{test}-{year}-{school}-{subject}-{grade}"
    payload = {
        "result_id": result_id,
        "test": test,
        "academic_year": year,
        "school_code": school,
        "subject": subject,
        "grade": grade,
        "mean": mean,
        "tested": tested,
        "replaces": replaces,
        "period": {"academic_year": year, "semester": 2},
    }
    org = school_org(school, cluster, esa, province)
    return event("achievement.ResultRecorded", payload, org, aggregate_id=result_id)
