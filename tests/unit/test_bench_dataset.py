"""The benchmark data set keeps the event contracts and is the same for a seed (figures compare across runs)."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

from rich.console import Console

from bench import dataset
from bench.harness import Bench, Scale
from shared.catalog import catalog
from shared.settings import Settings

TINY = Scale("tiny", schools=120, events=1_500)


def build(seed: int, tmp_path: Path) -> dataset.DataSet:
    ctx = Bench(Settings(), TINY, Console(file=io.StringIO()), tmp_path)
    return dataset.build(ctx, seed=seed)


def test_every_event_decodes_and_all_three_models_and_achievement_are_there(tmp_path: Path) -> None:
    data = build(7, tmp_path)
    producers = Counter()
    for records in data.records.values():
        for _, value in records:
            producers[catalog.decode(value)["producer"]] += 1
    assert {"directory", "supervision", "training", "committee", "achievement"} <= set(producers)
    activity = producers["supervision"] + producers["training"] + producers["committee"]
    assert activity >= TINY.events
    assert data.schools == 120


def test_the_same_seed_gives_the_same_records_and_another_seed_does_not(tmp_path: Path) -> None:
    first, again, other = build(7, tmp_path), build(7, tmp_path), build(8, tmp_path)
    assert first.records == again.records
    assert first.records != other.records
