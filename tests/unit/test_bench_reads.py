"""The read baseline's figures are checked against the view's: exact counts, sums and means to the cent."""

from __future__ import annotations

from bench.reads import same_figures

SHOWN = {"visits_done": 298, "schools_visited": 69, "rubric_mean": 2.51, "onet_mean": 35.93}


def test_a_mean_rounded_the_other_way_on_its_boundary_is_the_same_figure() -> None:
    assert same_figures(SHOWN, {**SHOWN, "onet_mean": 35.92})


def test_a_different_count_or_a_mean_further_off_or_missing_is_not() -> None:
    assert not same_figures(SHOWN, {**SHOWN, "visits_done": 299})
    assert not same_figures(SHOWN, {**SHOWN, "onet_mean": 35.9})
    assert not same_figures(SHOWN, {**SHOWN, "onet_mean": None})
    assert not same_figures(SHOWN, {k: v for k, v in SHOWN.items() if k != "rubric_mean"})
