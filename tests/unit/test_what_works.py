"""The arithmetic of "what works": comparables, intensity bands and groups too small to show."""

from __future__ import annotations

from services.monitoring.what_works import MIN_GROUP, School, _band, _group, _relative_to_comparables


def test_relative_change_leaves_the_school_out_of_its_own_comparables() -> None:
    schools = [
        School("a", "c1", "small", 6.0),
        School("b", "c2", "small", 0.0),
        School("c", "c2", "small", 3.0),
    ]
    schools.append(School("big", "c3", "large", 10.0))  # no other large school: nothing to compare with
    relative = _relative_to_comparables(schools)
    assert relative == {"a": 6.0 - 1.5, "b": 0.0 - 4.5, "c": 3.0 - 3.0}


def test_intensity_bands() -> None:
    assert [_band(x) for x in (0.0, 0.5, 3.0, 3.1, 8.0, 40.0)] == [
        "none",
        "low",
        "low",
        "medium",
        "medium",
        "high",
    ]


def test_a_group_smaller_than_the_minimum_shows_counts_but_no_figures() -> None:
    schools = [School(str(i), "c1", "small", float(i)) for i in range(MIN_GROUP - 1)]
    group = _group({"mix": []}, schools, {s.code: s.change for s in schools}, {"c1": ((), 0.0)})
    assert group["too_few"] and group["schools"] == MIN_GROUP - 1 and group["networks"] == 1
    assert group["mean_relative_change"] is None and group["max_relative_change"] is None
    enough = [*schools, School("x", "c1", "small", 5.0)]
    shown = _group({"mix": []}, enough, {s.code: s.change for s in enough}, {"c1": ((), 0.0)})
    assert not shown["too_few"] and shown["max_relative_change"] == 5.0 and shown["sd_relative_change"] > 0
