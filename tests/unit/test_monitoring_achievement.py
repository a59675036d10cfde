"""The achievement part of the monitoring fold and its figures: weighted means, corrections, comparison with
the province and the nation, the change from the year before, and small-cell suppression."""

from __future__ import annotations

from typing import Any

from services.monitoring.achievement_figures import achievement_figures, latest_year
from services.monitoring.projection import MonitoringProjection
from services.monitoring.views import view_key
from shared.projection import Change, merge_changes
from shared.settings import TOPICS
from tests.eventfactory import result_recorded


def fold(events: list[dict[str, Any]]) -> dict[tuple[str, str], Change]:
    return merge_changes(MonitoringProjection().fold(events, lambda collection, keys: {}))


def section(merged: dict[tuple[str, str], Change], level: str, code: str, year: int) -> dict[str, Any]:
    """The `achievement` section the merged increments would create (dotted paths expanded)."""
    doc: dict[str, Any] = {}
    key = view_key(level, code, {"academic_year": year, "semester": 2})
    for path, value in merged[("views", key)].inc.items():
        *parents, leaf = path.removeprefix("achievement.").split(".")
        node = doc
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = value
    return doc


def test_the_projection_reads_the_achievement_topic() -> None:
    assert TOPICS["achievement"] in MonitoringProjection().topics


def test_results_are_summed_by_pupils_tested_at_every_level_of_semester_2() -> None:
    merged = fold(
        [result_recorded("13010001", mean=40, tested=30), result_recorded("13010002", mean=60, tested=10)]
    )
    district = section(merged, "esa", "13P1", 2568)
    assert district["onet"]["P6"]["math"] == {"sum": 40 * 30 + 60 * 10, "tested": 40, "results": 2}
    for level, code in [
        ("school", "13010001"),
        ("cluster", "13P1-C01"),
        ("province", "13"),
        ("national", "TH"),
    ]:
        assert ("views", view_key(level, code, {"academic_year": 2568, "semester": 2})) in merged
    figures = achievement_figures({2568: district}, {}, {}, up_to=2568, min_tested=5)
    assert figures["results"][0]["mean"] == 45.0  # (1200 + 600) / 40, not the plain mean of 40 and 60


def test_a_correction_adds_its_difference_and_is_not_a_second_result() -> None:
    merged = fold(
        [
            result_recorded(mean=40, tested=30),
            result_recorded(mean=50, tested=20, replaces={"mean": 40, "tested": 30}),
        ]
    )
    cell = section(merged, "school", "13010001", 2568)["onet"]["P6"]["math"]
    assert cell == {"sum": 50 * 20, "tested": 20, "results": 1}


def _cell(mean: float, tested: int, results: int = 1) -> dict[str, float]:
    return {"sum": mean * tested, "tested": tested, "results": results}


def _onet(**cells: dict[str, float]) -> dict[str, Any]:
    return {"onet": {"P6": cells}}


def test_figures_compare_with_province_and_nation_and_the_year_before() -> None:
    own = {2567: _onet(math=_cell(40, 20)), 2568: _onet(math=_cell(44, 20), thai=_cell(50, 20))}
    province = {2568: _onet(math=_cell(42, 200, 10))}
    national = {2568: _onet(math=_cell(38.5, 4000, 300))}
    figures = achievement_figures(own, province, national, up_to=2569, min_tested=5)
    assert figures["academic_year"] == 2568 and figures["previous_year"] == 2567
    math = next(r for r in figures["results"] if r["subject"] == "math")
    assert (math["mean"], math["previous_mean"], math["change"]) == (44.0, 40.0, 4.0)
    assert (math["province_mean"], math["national_mean"]) == (42.0, 38.5)
    assert figures["onet_mean"] == 47.0 and figures["onet_tested"] == 40
    assert figures["onet_change"] == 7.0  # 47 this year against 40 the year before


def test_the_latest_results_year_is_the_latest_up_to_the_period() -> None:
    sections = {
        2566: _onet(math=_cell(40, 5)),
        2568: _onet(math=_cell(41, 5)),
        2569: _onet(math=_cell(42, 5)),
    }
    assert latest_year(sections, 2568) == 2568
    assert latest_year(sections, 2567) == 2566
    assert latest_year({}, 2568) is None
    empty = achievement_figures({}, {}, {}, up_to=2568, min_tested=5)
    assert empty["academic_year"] is None and empty["results"] == []


def test_small_cells_are_hidden_with_every_figure_that_would_reveal_them() -> None:
    own = {
        2567: _onet(math=_cell(30, 12), thai=_cell(50, 3)),
        2568: _onet(math=_cell(35, 12), thai=_cell(55, 4)),
    }
    hidden = achievement_figures(own, {}, {}, up_to=2568, min_tested=5)
    thai = next(r for r in hidden["results"] if r["subject"] == "thai")
    math = next(r for r in hidden["results"] if r["subject"] == "math")
    assert thai["suppressed"] and thai["mean"] is None and thai["tested"] is None and thai["change"] is None
    assert not math["suppressed"] and math["mean"] == 35.0 and math["change"] == 5.0
    # the O-NET mean over both subjects would give the small one away by subtraction
    assert hidden["suppressed"] and hidden["onet_mean"] is None and hidden["onet_change"] is None
    shown = achievement_figures(own, {}, {}, up_to=2568, min_tested=5, small_cells_visible=True)
    assert next(r for r in shown["results"] if r["subject"] == "thai")["mean"] == 55.0
    assert shown["onet_mean"] is not None and not shown["suppressed"]


def test_a_small_previous_year_hides_the_change_but_not_this_year() -> None:
    own = {2567: _onet(math=_cell(30, 4)), 2568: _onet(math=_cell(35, 12))}
    row = achievement_figures(own, {}, {}, up_to=2568, min_tested=5)["results"][0]
    assert row["mean"] == 35.0 and row["previous_mean"] is None and row["change"] is None
    assert row["previous_suppressed"]


def test_a_comparison_mean_resting_on_a_small_cell_is_hidden_from_everyone() -> None:
    own = {2568: _onet(math=_cell(44, 20))}
    province = {2568: _onet(math=_cell(47, 24, 2))}  # this school and one other with 4 pupils
    national = {2568: _onet(math=_cell(46, 4000, 300))}
    row = achievement_figures(own, province, national, up_to=2568, min_tested=25, small_cells_visible=True)
    assert row["results"][0]["province_mean"] is None and row["results"][0]["national_mean"] == 46.0
