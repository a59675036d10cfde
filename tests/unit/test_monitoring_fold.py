"""The monitoring projection's fold and the framework's merging, without servers."""

from __future__ import annotations

from datetime import date
from typing import Any

from pymongo import InsertOne, UpdateOne

from services.monitoring.figures import supervision_figures
from services.monitoring.projection import MonitoringProjection
from services.monitoring.views import unit_key, view_key
from shared.envelope import Org
from shared.projection import Change, merge_changes
from tests.eventfactory import PERIOD, event, school_org, school_recorded, visit_completed


def no_docs(collection: str, keys: Any) -> dict[str, dict[str, Any]]:
    return {}


def fold(events: list[dict[str, Any]], lookup: Any = no_docs) -> dict[tuple[str, str], Change]:
    return merge_changes(MonitoringProjection().fold(events, lookup))


def test_new_schools_count_once_on_every_ancestor() -> None:
    merged = fold([school_recorded("13010001"), school_recorded("13010002"), school_recorded("13010001")])
    both = {"schools_total": 2, "teachers_total": 12}
    assert merged[("units", "cluster:13P1-C01")].inc == both
    assert merged[("units", "esa:13P1")].inc == both
    assert merged[("units", "province:13")].inc == both
    assert merged[("units", "national:TH")].inc == both


def test_an_esa_area_names_its_province_from_geothai() -> None:
    payload = {
        "esa_code": "13P1",
        "name_th": "สพป.ปทุมธานี เขต 1",
        "name_en": "Pathum Thani PESA 1",
        "level": "primary",
        "province_code": "13",
        "effective_from": "2026-05-16",
    }
    merged = fold([event("directory.EsaAreaRecorded", payload, Org(None, None, "13P1", "13"))])
    assert merged[("units", "province:13")].set["name_en"] == "Pathum Thani"
    assert merged[("units", "province:13")].set["name_th"] == "ปทุมธานี"
    assert merged[("units", "esa:13P1")].set["parent"] == "province:13"


def test_a_school_that_moves_is_recounted_on_both_paths() -> None:
    stored = {
        unit_key("school", "13010001"): {"code": "13010001", "org": school_org().as_dict(), "teachers": 6}
    }
    merged = fold(
        [school_recorded("13010001", cluster="13P1-C02")], lambda c, k: stored if c == "units" else {}
    )
    assert merged[("units", "cluster:13P1-C01")].inc == {"schools_total": -1, "teachers_total": -6}
    assert merged[("units", "cluster:13P1-C02")].inc == {"schools_total": 1, "teachers_total": 6}
    assert merged[("units", "esa:13P1")].inc == {"schools_total": 0, "teachers_total": 0}


def test_completed_visits_fold_into_one_change_per_view() -> None:
    a = visit_completed(visit_id="V1", scores={"assessment": 2})
    b = visit_completed(visit_id="V2", scores={"assessment": 4})
    merged = fold([a, b])
    school = merged[("views", view_key("school", "13010001", PERIOD))]
    assert school.inc["supervision.visits_done"] == 2
    assert school.inc["supervision.schools_visited"] == 1  # coverage counts the school once
    assert school.inc["supervision.rubric.assessment.sum"] == 6
    assert school.max["as_of"] == max(a["occurred_at"], b["occurred_at"])
    province = merged[("views", view_key("province", "13", PERIOD))]
    assert province.inc["supervision.visits_done"] == 2
    assert province.set["org"] == {"province_code": "13"}
    assert sum(1 for key in merged if key[0] == "views") == 5  # school, cluster, ESA, province, national


def test_a_school_already_visited_this_semester_does_not_raise_coverage_again() -> None:
    key = view_key("school", "13010001", PERIOD)
    visited = {key: {"_id": key, "supervision": {"visits_done": 1}}}
    merged = fold([visit_completed()], lambda c, k: visited if c == "views" else {})
    assert "supervision.schools_visited" not in merged[("views", key)].inc


def test_follow_up_completed_late_closes_an_overdue_one() -> None:
    org = school_org()
    payload = {
        "follow_up_id": "F1",
        "school_code": "13010001",
        "completed_date": "2026-12-01",
        "was_overdue": True,
        "period": PERIOD,
    }
    merged = fold([event("supervision.FollowUpCompleted", payload, org)])
    inc = merged[("views", view_key("esa", "13P1", PERIOD))].inc
    assert inc == {
        "supervision.follow_ups_completed": 1,
        "supervision.follow_ups_open": -1,
        "supervision.follow_ups_overdue": -1,
    }


def test_figures_derive_coverage_and_means() -> None:
    view = {
        "supervision": {
            "schools_visited": 3,
            "visits_done": 4,
            "rubric": {"assessment": {"sum": 10, "count": 4}, "learning_design": {"sum": 6, "count": 2}},
        }
    }
    figures = supervision_figures(view, schools_total=12)
    assert figures["coverage"] == 0.25
    assert figures["rubric_mean_by_domain"] == {"assessment": 2.5, "learning_design": 3.0}
    assert figures["rubric_mean"] == round(16 / 6, 2)
    assert supervision_figures(None, 0)["coverage"] is None


def test_merge_keeps_set_on_insert_out_of_touched_fields() -> None:
    a = Change("views", "k", inc={"n": 1}, on_insert={"n": 0, "created": 1})
    b = Change("views", "k", inc={"n": 2}, max={"as_of": 5})
    update = merge_changes([a, b])[("views", "k")].as_update()
    assert update == {"$inc": {"n": 3}, "$max": {"as_of": 5}, "$setOnInsert": {"created": 1}}


def test_a_new_document_is_inserted_only_when_every_change_to_it_says_new_and_gives_it_whole() -> None:
    whole = Change("activity", "k", set={"at": "2026-11-20"}, new=True)
    assert isinstance(whole.as_write(), InsertOne)
    upserts = [
        merge_changes([whole, Change("activity", "k", set={"title": "t"})])[("activity", "k")],
        merge_changes([Change("activity", "k", set={"title": "t"}), whole])[("activity", "k")],
        Change("views", "k", inc={"n": 1}, new=True),  # counters: $inc
        Change("views", "k", set={"supervision.last": 1}, new=True),  # a dotted field: a path, not a name
    ]
    assert all(isinstance(change.as_write(), UpdateOne) for change in upserts)
    both = merge_changes([whole, Change("activity", "k", set={"title": "t"}, new=True)])[("activity", "k")]
    assert isinstance(both.as_write(), InsertOne)


def test_a_visit_moves_the_schools_latest_visit_in_any_semester() -> None:
    merged = fold([visit_completed(visit_id="V1")])
    school = merged[("units", unit_key("school", "13010001"))]
    assert school.max == {"latest_visit_date": "2026-11-20"}
    assert ("units", unit_key("cluster", "13P1-C01")) not in merged  # a school-level fact only


def test_days_since_visit_and_follow_up_completion_are_derived_on_read() -> None:
    view = {"supervision": {"follow_ups_opened": 4, "follow_ups_completed": 3}}
    figures = supervision_figures(view, 1, latest_visit="2026-09-01", today=date(2026, 11, 23))
    assert figures["days_since_visit"] == 83 and figures["follow_up_completion_rate"] == 0.75
    never = supervision_figures(None, 1, latest_visit=None, today=date(2026, 11, 23))
    assert never["days_since_visit"] is None and never["follow_up_completion_rate"] is None
