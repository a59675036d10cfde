"""The bench's projector runs at a tiny scale, in processes of their own as in a measured run: every event
projected, the store's time reported, and what was done by a mark in the run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bench import dataset, projector
from bench.harness import Bench
from shared.settings import Settings

pytestmark = pytest.mark.integration


def test_a_run_reports_its_events_its_store_time_and_its_stretch_up_to_a_mark(
    tiny_bench: Callable[[Settings], Bench], settings: Settings, unique: str
) -> None:
    ctx = tiny_bench(settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}"))
    data = dataset.build(ctx)
    dataset.produce(ctx, data)
    expected = data.count(projector.MEASURED)

    batches_of_100 = projector.fresh(ctx, "marked").with_overrides(projector_max_records=100)
    marked = projector.project(ctx, batches_of_100, projector.MEASURED, instances=1, mark=0.0)
    assert marked.events == expected and marked.writes > 0
    assert 0 < marked.store_seconds < marked.seconds
    early_events, early_store = marked.early
    assert early_events <= 100 < expected  # a mark at 0 s is taken after the first batch, not at the end
    assert 0 < early_store < marked.store_seconds

    whole = projector.project(ctx, projector.fresh(ctx, "whole"), projector.MEASURED, instances=2)
    assert whole.events == expected
    assert whole.early == (whole.events, whole.store_seconds)  # no mark: the whole run
