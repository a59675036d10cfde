"""A timed sample is compared with the same stretch of the whole run: projection slows as the store fills."""

from __future__ import annotations

from bench.projector import Run, scaling_figure, vs_naive, vs_raw
from shared.settings import Settings


def run_slowing_down() -> Run:
    # 9,000 events in the first 20 s, 20,000 in 100 s
    return Run(
        Settings(), events=20_000, seconds=100.0, timeline=[(10.0, 5_000), (20.0, 9_000), (99.5, 20_000)]
    )


def test_the_rate_within_a_bound_is_that_of_the_runs_first_seconds() -> None:
    assert run_slowing_down().rate_within(25.0) == 450.0  # 9,000 events by 20 s
    assert run_slowing_down().rate == 200.0


def test_without_a_bound_or_with_one_as_long_as_the_run_it_is_the_whole_runs_rate() -> None:
    assert run_slowing_down().rate_within(None) == 200.0
    assert run_slowing_down().rate_within(300.0) == 200.0
    assert (
        Run(Settings(), events=100, seconds=2.0).rate_within(45.0) == 50.0
    )  # no timeline: too short to sample


def test_the_naive_projector_is_compared_with_the_projectors_first_seconds_not_its_whole_run() -> None:
    naive = Run(Settings(), events=600, seconds=20.0)  # 30 events/s

    figure = vs_naive(run_slowing_down(), naive)

    assert figure.value == 450  # the projector's first 20 s
    assert figure.ratio == 15.0 and figure.met
    assert figure.details["ratio_whole_log"] == 6.7  # 200 / 30: a store filling up for 100 s


def test_the_raw_comparison_says_how_long_the_projector_waited_on_the_store() -> None:
    one = Run(Settings(), events=20_000, seconds=100.0, writes=16_000, store_seconds=60.0)
    raw = Run(Settings(), events=20_000, seconds=2.0)

    figure = vs_raw(one, raw)

    assert figure.ratio == 0.02 and not figure.met  # 200 against 10,000 events/s
    assert figure.details["store_writes_per_event"] == 0.8
    assert figure.details["store_share_of_the_run"] == 0.6
    assert figure.details["events_per_s_with_the_store_alone"] == 333  # 20,000 events in the store's 60 s
    assert figure.details["events_per_s_of_its_own_work"] == 500  # 20,000 events in the other 40 s
    assert figure.details["own_work_ratio_to_raw"] == 0.05


def test_two_instances_are_compared_with_the_same_first_seconds_of_one_store_time_included() -> None:
    one = run_slowing_down()
    one.store_seconds, one.early = 60.0, (9_000, 18.0)  # 2 ms an event over its first 20 s, 3 over the whole
    two = Run(Settings(), events=8_000, seconds=20.0, store_seconds=32.0)

    figure = scaling_figure(one, two, bound=20.0)

    assert (figure.value, figure.baseline_value, figure.ratio) == (400, 450, 0.889)
    assert figure.details["store_ms_per_event_one"] == 2.0  # not the whole run's 3.0
    assert figure.details["store_ms_per_event_two"] == 4.0
