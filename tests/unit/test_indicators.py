"""The indicator catalogue: definitions, statuses in both directions, per-semester targets and overrides."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from services.monitoring import indicators
from services.monitoring.indicators import Indicator, base_catalogue, evaluate, status
from shared.calendar import Period

S1, S2 = Period(2569, 1), Period(2569, 2)
REQUIRED = {
    "supervision_coverage": ("supervision.coverage", 1.0, 0.7),
    "rubric_mean": ("supervision.rubric_mean", 3.0, 2.5),
    "follow_up_completion": ("supervision.follow_up_completion_rate", 0.8, 0.6),
    "pd_hours_per_teacher": ("training.pd_hours_year_per_teacher", {"1": 10, "2": 20}, {"1": 6, "2": 14}),
    "training_completion": ("training.completion_rate", 0.8, 0.6),
    "committee_meetings": ("committee.meetings_held_per_committee", 2, 1),
    "community_participation": ("committee.community_share", 0.4, 0.25),
    "action_item_completion": ("committee.action_item_completion_rate", 0.8, 0.6),
    "achievement_mean": ("achievement.onet_mean", 45, 38),
    "achievement_change": ("achievement.onet_change", 0, -3),
}


def figures(**sections: dict[str, Any]) -> dict[str, Any]:
    base: dict[str, Any] = {"level": "school", "code": "13010001", "name_th": "ร.ร.", "name_en": "School"}
    return {**base, **sections}


def by_code(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["code"]: row for row in rows}


def test_the_catalogue_defines_the_ten_indicators_once() -> None:
    catalogue = {i.code: i for i in base_catalogue()}
    assert set(catalogue) == set(REQUIRED)
    for code, (source, target, at_risk) in REQUIRED.items():
        indicator = catalogue[code]
        assert (indicator.source, indicator.target, indicator.at_risk) == (source, target, at_risk)
        assert indicator.direction == "higher"
        assert indicator.name_th and indicator.name_en and indicator.formula_th and indicator.formula_en
    assert catalogue["achievement_change"].unit == "points"
    assert catalogue["pd_hours_per_teacher"].unit == "hours"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.9, "on_track"), (0.8, "on_track"), (0.7, "at_risk"), (0.6, "at_risk"), (0.59, "off_track")],
)
def test_higher_is_better(value: float, expected: str) -> None:
    assert status(value, 0.8, 0.6, "higher") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, "on_track"), (2, "on_track"), (3, "at_risk"), (4, "at_risk"), (4.5, "off_track")],
)
def test_lower_is_better(value: float, expected: str) -> None:
    assert status(value, 2, 4, "lower") == expected


def test_negative_thresholds() -> None:
    assert status(0.0, 0, -3, "higher") == "on_track"
    assert status(-3.0, 0, -3, "higher") == "at_risk"
    assert status(-3.01, 0, -3, "higher") == "off_track"


def test_no_value_is_no_data() -> None:
    assert status(None, 0.8, 0.6, "higher") == "no_data"
    rows = by_code(evaluate(figures(), S2, base_catalogue()))
    assert {row["status"] for row in rows.values()} == {"no_data"}
    assert rows["supervision_coverage"]["status_th"] == "ไม่มีข้อมูล"
    assert rows["supervision_coverage"]["status_en"] == "No data"


def test_evaluate_reads_each_source_and_labels_the_status() -> None:
    unit = figures(
        supervision={"coverage": 0.75, "rubric_mean": 3.2, "follow_up_completion_rate": 0.5},
        committee={"community_share": 0.4, "meetings_held_per_committee": None},
        achievement={"onet_mean": 41.5, "onet_change": -3.5},
    )
    rows = by_code(evaluate(unit, S2, base_catalogue()))
    assert [r["code"] for r in evaluate(unit, S2, base_catalogue())] == [i.code for i in base_catalogue()]
    coverage = rows["supervision_coverage"]
    assert coverage == {
        "code": "supervision_coverage",
        "name_th": coverage["name_th"],
        "name_en": "Supervision coverage",
        "unit": "share",
        "direction": "higher",
        "value": 0.75,
        "target": 1.0,
        "at_risk": 0.7,
        "status": "at_risk",
        "status_th": "มีความเสี่ยง",
        "status_en": "At risk",
    }
    assert rows["rubric_mean"]["status"] == "on_track" and rows["rubric_mean"]["status_th"] == "ตามเป้าหมาย"
    assert rows["follow_up_completion"]["status"] == "off_track"
    assert rows["follow_up_completion"]["status_en"] == "Off track"
    assert rows["community_participation"]["status"] == "on_track"
    assert rows["committee_meetings"]["status"] == "no_data"
    assert rows["achievement_mean"]["status"] == "at_risk"
    assert rows["achievement_change"]["status"] == "off_track"


def test_pd_hours_targets_follow_the_semester() -> None:
    unit = figures(training={"pd_hours_year_per_teacher": 12.0})
    first = by_code(evaluate(unit, S1, base_catalogue()))["pd_hours_per_teacher"]
    second = by_code(evaluate(unit, S2, base_catalogue()))["pd_hours_per_teacher"]
    assert (first["target"], first["at_risk"], first["status"]) == (10, 6, "on_track")
    assert (second["target"], second["at_risk"], second["status"]) == (20, 14, "off_track")
    boundary = evaluate(figures(training={"pd_hours_year_per_teacher": 14}), S2, base_catalogue())
    assert by_code(boundary)["pd_hours_per_teacher"]["status"] == "at_risk"


def test_a_value_that_is_not_a_number_counts_as_no_data() -> None:
    unit = figures(supervision={"coverage": "n/a", "rubric_mean": True}, training=5)
    rows = by_code(evaluate(unit, S2, base_catalogue()))
    assert rows["supervision_coverage"]["value"] is None and rows["rubric_mean"]["value"] is None
    assert rows["training_completion"]["status"] == "no_data"


def test_evaluate_view_covers_the_unit_and_its_children() -> None:
    view = {
        **figures(supervision={"coverage": 1.0}),
        "level": "esa",
        "code": "13P1",
        "period": {"academic_year": 2569, "semester": 2},
        "as_of": None,
        "children": [figures(supervision={"coverage": 0.5})],
    }
    table = indicators.evaluate_view(view, S2, base_catalogue())
    assert table["unit"]["level"] == "esa" and table["period"] == view["period"]
    assert by_code(table["unit"]["indicators"])["supervision_coverage"]["status"] == "on_track"
    child = table["children"][0]
    assert child["code"] == "13010001" and set(child) == {"level", "code", "name_th", "name_en", "indicators"}
    assert by_code(child["indicators"])["supervision_coverage"]["status"] == "off_track"


def test_lower_is_better_indicators_evaluate_mirrored() -> None:
    overdue = Indicator(
        "overdue", "ค้าง", "Overdue", "ก", "a", "committee.overdue_share", "share", "lower", 0.1, 0.2
    )
    for value, expected in [(0.05, "on_track"), (0.15, "at_risk"), (0.3, "off_track")]:
        row = evaluate(figures(committee={"overdue_share": value}), S2, (overdue,))[0]
        assert row["status"] == expected


def test_describe_lists_indicators_and_status_labels() -> None:
    described = indicators.describe(base_catalogue())
    assert [s["code"] for s in described["statuses"]] == ["on_track", "at_risk", "off_track", "no_data"]
    pd = next(i for i in described["indicators"] if i["code"] == "pd_hours_per_teacher")
    assert pd["target"] == {"1": 10, "2": 20} and pd["formula_en"]


# --- overrides ----------------------------------------------------------------------------------------------


def write(tmp_path: Path, content: Any, name: str = "targets.json") -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return str(path)


def test_no_targets_file_is_the_default_catalogue() -> None:
    assert indicators.catalogue("") is base_catalogue()


def test_a_targets_file_overrides_targets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "supervision_coverage": {"target": 0.9, "at_risk": 0.75},
            "rubric_mean": {"at_risk": 2.0},
            "pd_hours_per_teacher": {"target": {"1": 8, "2": 16}, "at_risk": {"1": 4, "2": 10}},
        },
    )
    catalogue = {i.code: i for i in indicators.catalogue(path)}
    assert (catalogue["supervision_coverage"].target, catalogue["supervision_coverage"].at_risk) == (
        0.9,
        0.75,
    )
    assert (catalogue["rubric_mean"].target, catalogue["rubric_mean"].at_risk) == (3.0, 2.0)
    assert catalogue["pd_hours_per_teacher"].thresholds(S2) == (16, 10)
    assert catalogue["training_completion"] == next(
        i for i in base_catalogue() if i.code == "training_completion"
    )
    row = by_code(evaluate(figures(supervision={"coverage": 0.9}), S2, indicators.catalogue(path)))
    assert row["supervision_coverage"]["status"] == "on_track"
    assert base_catalogue()[0].target == 1.0  # the defaults are untouched


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"no_such_indicator": {"target": 1}}, "unknown indicator codes ['no_such_indicator']"),
        ({"rubric_mean": {"target": "high"}}, "rubric_mean.target: expected a number"),
        ({"rubric_mean": {"target": True}}, "rubric_mean.target: expected a number"),
        ({"rubric_mean": {"goal": 3}}, "rubric_mean: expected"),
        ({"rubric_mean": {}}, "rubric_mean: expected"),
        ({"rubric_mean": 3}, "rubric_mean: expected"),
        ({"rubric_mean": {"target": 2.0}}, "at_risk (2.5) must be at most target (2.0)"),
        ({"pd_hours_per_teacher": {"target": {"1": 10}}}, 'expected a number or {"1": number, "2": number}'),
        ({"pd_hours_per_teacher": {"target": {"1": 10, "2": 12}}}, "semester 2"),
        ([["rubric_mean", 3]], "expected an object keyed by indicator code"),
        ('{"rubric_mean": {"target": NaN}}', "expected a number"),
        ("{not json", "is not valid JSON"),
    ],
)
def test_a_bad_targets_file_is_a_clear_error(tmp_path: Path, content: Any, message: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ValueError) as raised:
        indicators.catalogue(path)
    assert message in str(raised.value) and path in str(raised.value)


def test_a_missing_targets_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot be read"):
        indicators.catalogue(str(tmp_path / "missing.json"))


def test_the_catalogue_itself_is_validated() -> None:
    raw = [base_catalogue()[0].as_dict()]
    assert indicators.parse(raw)[0] == base_catalogue()[0]
    with pytest.raises(ValueError, match="duplicate codes"):
        indicators.parse(raw * 2)
    with pytest.raises(ValueError, match="direction one of"):
        indicators.parse([{**raw[0], "direction": "up"}])
    with pytest.raises(ValueError, match="expected exactly the fields"):
        indicators.parse([{**raw[0], "extra": 1}])
    with pytest.raises(ValueError, match="name_th must be a non-empty string"):
        indicators.parse([{**raw[0], "name_th": " "}])
    lower = replace(base_catalogue()[0], direction="lower").as_dict()
    with pytest.raises(ValueError, match="must be at least target"):
        indicators.parse([lower])


def test_a_bad_targets_file_stops_the_app_at_startup(tmp_path: Path) -> None:
    from services.monitoring.app import create_app
    from shared.settings import Settings

    path = write(tmp_path, {"nope": {"target": 1}})
    with pytest.raises(ValueError, match="unknown indicator codes"):
        create_app(Settings(indicator_targets_file=path))
