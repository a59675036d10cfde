"""The committee part of the monitoring fold and its figures: meetings, attendance, committees that met,
action items, and the period-independent activity buckets behind `committees_inactive`."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.monitoring.figures import committee_figures
from services.monitoring.folds.committee import REGISTRY
from services.monitoring.projection import MonitoringProjection
from services.monitoring.views import unit_key, view_key
from shared.projection import Change, merge_changes
from shared.settings import TOPICS
from tests.eventfactory import (
    NETWORK,
    PERIOD,
    action_item_completed,
    action_item_created,
    action_item_overdue,
    attendance,
    committee_established,
    committee_org,
    meeting_cancelled,
    meeting_held,
    meeting_scheduled,
    resolution_adopted,
)

SCHOOL_PATH = [
    ("school", "13010001"),
    ("cluster", "13P1-C01"),
    ("esa", "13P1"),
    ("province", "13"),
    ("national", "TH"),
]
S1 = {"academic_year": 2569, "semester": 1}


def lookup_with(docs: dict[str, dict[str, dict[str, Any]]] | None = None) -> Any:
    def lookup(collection: str, keys: Any) -> dict[str, dict[str, Any]]:
        stored = (docs or {}).get(collection, {})
        return {k: stored[k] for k in keys if k in stored}

    return lookup


def fold(events: list[dict[str, Any]], lookup: Any = None) -> dict[tuple[str, str], Change]:
    return merge_changes(MonitoringProjection().fold(events, lookup or lookup_with()))


def committee(
    merged: dict[tuple[str, str], Change], level: str, code: str, period: dict[str, int] = PERIOD
) -> dict[str, float]:
    inc = merged[("views", view_key(level, code, period))].inc
    return {k.removeprefix("committee."): v for k, v in inc.items() if k.startswith("committee.")}


def as_view(merged: dict[tuple[str, str], Change], level: str, code: str) -> dict[str, Any]:
    """The view document the merged increments would create (dotted paths expanded)."""
    doc: dict[str, Any] = {}
    for path, value in merged[("views", view_key(level, code, PERIOD))].inc.items():
        *parents, leaf = path.split(".")
        node = doc
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = value
    return doc


def units_inc(merged: dict[tuple[str, str], Change], level: str, code: str) -> dict[str, float]:
    return merged[("units", unit_key(level, code))].inc


def test_the_projection_reads_the_committee_topic() -> None:
    assert TOPICS["committee"] in MonitoringProjection().topics


def test_a_batch_folds_into_one_change_per_view_document() -> None:
    events = [
        meeting_scheduled(meeting_id="M1"),
        meeting_scheduled(meeting_id="M2"),
        meeting_held(meeting_id="M1"),
        meeting_cancelled(meeting_id="M2"),
        resolution_adopted(),
    ]
    changes = MonitoringProjection().fold(events, lookup_with())
    merged = merge_changes(changes)
    views = [key for key in merged if key[0] == "views"]
    assert len(views) == 5  # school, cluster, ESA, province, national: one update each
    for level, code in SCHOOL_PATH:
        counters = committee(merged, level, code)
        assert counters["meetings_scheduled"] == 2 and counters["meetings_cancelled"] == 1
        assert counters["meetings_held"] == 1 and counters["resolutions_adopted"] == 1
    school = merged[("views", view_key("school", "13010001", PERIOD))]
    assert school.max["as_of"] == max(e["occurred_at"] for e in events)
    assert school.max["committee.last_meeting_date"] == "2026-11-20"
    assert school.set["org"]["school_code"] == "13010001"


def test_attendance_rates_and_community_share_from_a_held_meeting() -> None:
    rows = attendance(parent=(3, 1, 0), community_leader=(1, 0, 1), teacher=(4, 0, 0), student=(0, 2, 0))
    merged = fold([meeting_held(rows=rows, quorum_reached=True)])
    counters = committee(merged, "esa", "13P1")
    assert counters["attendance.parent.present"] == 3 and counters["attendance.parent.absent"] == 1
    assert counters["attendance.student.absent"] == 2 and counters["meetings_with_quorum"] == 1
    figures = committee_figures(as_view(merged, "esa", "13P1"), None, date(2026, 11, 23), 90)
    assert figures["attendance_rate_by_group"] == {
        "teacher": 1.0,
        "parent": 0.75,
        "community_leader": 0.5,
        "student": 0.0,
    }
    assert figures["attendance_rate"] == round(8 / 12, 4)
    assert figures["community_share"] == 0.5  # 4 of 8 present are parents and community leaders
    assert figures["attendance"]["community_leader"] == {"present": 1, "absent": 0, "excused": 1}
    assert figures["quorum_rate"] == 1.0


def test_a_committee_counts_once_as_met_per_semester_within_a_batch() -> None:
    merged = fold([meeting_held(meeting_id="M1"), meeting_held(meeting_id="M2", meeting_date="2026-12-01")])
    for level, code in SCHOOL_PATH:
        assert committee(merged, level, code)["meetings_held"] == 2
        assert committee(merged, level, code)["committees_met"] == 1
    registry = merged[(REGISTRY, "CM1")]
    assert registry.set == {"met.2569-2": True} and registry.max["last_met"] == "2026-12-01"


def test_a_committee_that_met_in_an_earlier_batch_does_not_count_again() -> None:
    stored = {REGISTRY: {"CM1": {"_id": "CM1", "met": {"2569-2": True}, "last_met": "2026-11-20"}}}
    merged = fold([meeting_held(meeting_id="M3", meeting_date="2026-12-01")], lookup_with(stored))
    assert "committees_met" not in committee(merged, "school", "13010001")
    # ... but it does in another semester
    merged = fold([meeting_held(meeting_id="M4", meeting_date="2027-06-01", period=S1)], lookup_with(stored))
    assert committee(merged, "school", "13010001", S1)["committees_met"] == 1


def test_two_committees_meeting_in_one_cluster_count_twice() -> None:
    merged = fold([meeting_held("CM1"), meeting_held("CM2", "M9", NETWORK)])
    assert committee(merged, "cluster", "13P1-C01")["committees_met"] == 2
    assert committee(merged, "school", "13010001")["committees_met"] == 1


def test_action_items_open_and_overdue_balance_back_to_zero() -> None:
    events = [
        action_item_created(action_item_id="A1"),
        action_item_created(action_item_id="A2"),
        action_item_overdue(action_item_id="A1"),
        action_item_completed(action_item_id="A1", was_overdue=True),
        action_item_completed(action_item_id="A2", was_overdue=False),
    ]
    merged = fold(events)
    for level, code in SCHOOL_PATH:
        counters = committee(merged, level, code)
        assert counters["action_items_created"] == 2 and counters["action_items_done"] == 2
        assert counters["action_items_open"] == 0 and counters["action_items_overdue"] == 0
    figures = committee_figures(as_view(merged, "national", "TH"), None, date(2026, 11, 23), 90)
    assert figures["action_item_completion_rate"] == 1.0
    half = committee_figures(as_view(fold(events[:4]), "esa", "13P1"), None, date(2026, 11, 23), 90)
    assert (half["action_items_open"], half["action_items_overdue"]) == (1, 0)
    assert half["action_item_completion_rate"] == 0.5


def test_a_network_committee_counts_for_the_cluster_and_above_not_for_schools() -> None:
    org = committee_org(NETWORK)
    merged = fold(
        [
            committee_established("NC1", NETWORK, org, "2026-11-01"),
            meeting_held("NC1", "NM1", NETWORK, org=org),
            action_item_created("NC1", org=org),
        ]
    )
    assert not [key for key in merged if key[1].startswith("school:")]
    for level, code in SCHOOL_PATH[1:]:
        assert committee(merged, level, code)["meetings_held"] == 1
        assert committee(merged, level, code)["action_items_open"] == 1
        assert units_inc(merged, level, code)["committees.total"] == 1
    assert merged[("views", view_key("cluster", "13P1-C01", PERIOD))].set["org"] == {
        "cluster_id": "13P1-C01",
        "esa_code": "13P1",
        "province_code": "13",
    }


def test_an_established_school_board_is_counted_on_its_school_and_every_ancestor() -> None:
    merged = fold([committee_established("CM1", established_date="2026-11-02")])
    for level, code in SCHOOL_PATH:
        assert units_inc(merged, level, code) == {"committees.total": 1, "committees.last_met.2026-11-02": 1}
        assert merged[("units", unit_key(level, code))].on_insert == {"level": level, "code": code}
    registry = merged[(REGISTRY, "CM1")]
    assert registry.set["established_date"] == "2026-11-02" and registry.max == {"active": "2026-11-02"}


def test_a_republished_establishment_does_not_count_again() -> None:
    stored = {REGISTRY: {"CM1": {"_id": "CM1", "established_date": "2026-11-02", "active": "2026-11-02"}}}
    merged = fold([committee_established("CM1")], lookup_with(stored))
    assert not [key for key in merged if key[0] == "units"]
    merged = fold([committee_established("CM1"), committee_established("CM1")])  # twice in one batch
    assert units_inc(merged, "esa", "13P1")["committees.total"] == 1


def test_a_later_meeting_moves_the_activity_bucket_and_an_older_one_does_not() -> None:
    stored = {
        REGISTRY: {
            "CM1": {
                "_id": "CM1",
                "org": committee_org().as_dict(),
                "established_date": "2026-06-01",
                "active": "2026-09-10",
                "last_met": "2026-09-10",
            }
        }
    }
    merged = fold([meeting_held(meeting_date="2026-11-20")], lookup_with(stored))
    for level, code in SCHOOL_PATH:
        assert units_inc(merged, level, code) == {
            "committees.last_met.2026-09-10": -1,
            "committees.last_met.2026-11-20": 1,
        }
    assert merged[(REGISTRY, "CM1")].max == {"last_met": "2026-11-20", "active": "2026-11-20"}
    older = fold([meeting_held(meeting_date="2026-08-01")], lookup_with(stored))
    assert not [key for key in older if key[0] == "units"]


def test_meetings_in_one_batch_move_the_bucket_step_by_step() -> None:
    merged = fold(
        [
            committee_established("CM1", established_date="2026-06-01"),
            meeting_held(meeting_id="M1", meeting_date="2026-09-10"),
            meeting_held(meeting_id="M2", meeting_date="2026-11-20"),
            meeting_held(meeting_id="M3", meeting_date="2026-10-01"),
        ]
    )
    assert units_inc(merged, "province", "13") == {
        "committees.total": 1,
        "committees.last_met.2026-06-01": 0,
        "committees.last_met.2026-09-10": 0,
        "committees.last_met.2026-11-20": 1,
    }


def test_a_meeting_folded_before_its_committee_is_established_dates_the_committee() -> None:
    merged = fold(
        [meeting_held(meeting_date="2026-11-20"), committee_established(established_date="2026-06-01")]
    )
    assert units_inc(merged, "school", "13010001") == {
        "committees.total": 1,
        "committees.last_met.2026-11-20": 1,
    }


def test_inactive_committees_are_those_without_activity_within_n_days() -> None:
    committees = {
        "total": 4,
        "last_met": {"2026-06-01": 1, "2026-08-24": 1, "2026-08-25": 1, "2026-11-20": 1, "2026-05-01": 0},
    }
    today = date(2026, 11, 23)  # 90 days back is 2026-08-25
    figures = committee_figures({"committee": {"meetings_held": 6}}, committees, today, 90)
    assert figures["committees_total"] == 4
    assert figures["committees_inactive"] == 2  # 2026-06-01 and 2026-08-24: more than 90 days ago
    assert figures["inactive_days"] == 90
    assert figures["meetings_held_per_committee"] == 1.5
    assert committee_figures(None, committees, today, 3)["committees_inactive"] == 3
    assert committee_figures(None, committees, today, 2)["committees_inactive"] == 4
    assert committee_figures(None, committees, today, 3650)["committees_inactive"] == 0


def test_figures_of_an_empty_view_are_zeros_and_nones() -> None:
    figures = committee_figures(None, None, date(2026, 11, 23), 90)
    assert figures["meetings_held"] == 0 and figures["committees_met"] == 0
    assert figures["action_items_open"] == 0 and figures["resolutions_adopted"] == 0
    assert figures["committees_total"] == 0 and figures["committees_inactive"] == 0
    for name in (
        "attendance_rate",
        "community_share",
        "action_item_completion_rate",
        "meetings_held_per_committee",
        "quorum_rate",
        "last_meeting_date",
    ):
        assert figures[name] is None, name
    assert figures["attendance_rate_by_group"] == {} and figures["attendance"] == {}
