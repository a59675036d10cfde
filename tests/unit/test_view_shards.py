"""Province and national documents kept per partition (services/monitoring/views.py): which document a change
goes to, and how a reader adds the shards up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.monitoring.projection import MonitoringProjection
from services.monitoring.views import SHARD_OF, SHARDS, add_shard, unit_key, view_key
from shared.projection import PARTITION, Change, merge_changes
from tests.eventfactory import PERIOD, committee_established, visit_completed


def no_docs(collection: str, keys: Any) -> dict[str, dict[str, Any]]:
    return {}


def from_partition(event: dict[str, Any], partition: int) -> dict[str, Any]:
    return {**event, PARTITION: partition}


def fold(events: list[dict[str, Any]]) -> dict[tuple[str, str], Change]:
    return merge_changes(MonitoringProjection().fold(events, no_docs))


def test_province_and_national_views_are_kept_per_partition_and_lower_levels_are_not() -> None:
    merged = fold(
        [
            from_partition(visit_completed(visit_id="V1"), 0),
            from_partition(visit_completed(visit_id="V2"), 3),
            from_partition(visit_completed(visit_id="V3"), 3 + SHARDS),  # shares shard 3
        ]
    )
    for level, code in (("school", "13010001"), ("cluster", "13P1-C01"), ("esa", "13P1")):
        assert merged[("views", view_key(level, code, PERIOD))].inc["supervision.visits_done"] == 3
    for level, code in (("province", "13"), ("national", "TH")):
        key = view_key(level, code, PERIOD)
        first, third = merged[("views", key)], merged[("views", f"{key}#3")]
        assert first.inc["supervision.visits_done"] == 1 and SHARD_OF not in first.set
        assert third.inc["supervision.visits_done"] == 2 and third.set[SHARD_OF] == key
        assert third.set["level"] == level and third.set["period"] == PERIOD  # found by level and period too
    assert sum(1 for key in merged if key[0] == "views") == 7


def test_committee_counters_of_upper_units_are_kept_per_partition_without_unit_fields() -> None:
    merged = fold([from_partition(committee_established("CM1"), 5)])
    school = merged[("units", unit_key("school", "13010001"))]
    assert school.inc["committees.total"] == 1 and school.on_insert["level"] == "school"
    shard = merged[("units", unit_key("national", "TH") + "#5")]
    assert shard.inc["committees.total"] == 1
    assert shard.set == {SHARD_OF: unit_key("national", "TH")}  # no level: unit queries never find a shard
    assert not shard.on_insert
    assert ("units", unit_key("national", "TH")) not in merged


def test_a_reader_adds_counters_takes_the_latest_date_and_keeps_the_shared_fields() -> None:
    early, late = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
    base = {
        "_id": "national:TH:2569-2",
        "level": "national",
        "period": {"academic_year": 2569, "semester": 2},
        "as_of": late,
        "supervision": {"visits_done": 2, "rubric": {"assessment": {"sum": 6, "count": 2}}},
    }
    shard = {
        "_id": "national:TH:2569-2#3",
        "level": "national",
        "period": {"academic_year": 2569, "semester": 2},
        "as_of": early,
        "supervision": {
            "visits_done": 1,
            "last_visit_date": "2026-11-01",
            "rubric": {"assessment": {"sum": 4, "count": 1}},
        },
        "committee": {"meetings_held": 1},
    }
    add_shard(base, shard)
    assert base["_id"] == "national:TH:2569-2"
    assert base["period"] == {"academic_year": 2569, "semester": 2}  # not added up
    assert base["as_of"] == late
    assert base["supervision"] == {
        "visits_done": 3,
        "last_visit_date": "2026-11-01",
        "rubric": {"assessment": {"sum": 10, "count": 3}},
    }
    assert base["committee"] == {"meetings_held": 1}
