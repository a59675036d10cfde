"""Fixtures of the bench's integration tests: a tiny scale on a tansu broker of the test's own (the bench
publishes to the platform's topic names, which the session's broker also serves)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console

from bench import dataset
from bench.harness import Bench, Scale
from deploy.local.servers import ensure_topics, free_port, start_kafka
from shared.settings import Settings

TINY = Scale("tiny", schools=60, events=600, achievement_rows=False, broker="tansu")


@pytest.fixture
def tansu(tmp_path: Path) -> Iterator[str]:
    broker = start_kafka(tmp_path / "kafka", free_port(), "tansu")
    try:
        yield broker.address
    finally:
        broker.terminate()
        broker.stop()


@pytest.fixture
def tiny_bench(tansu: str, tmp_path: Path) -> Callable[[Settings], Bench]:
    """A bench context at the tiny scale, publishing to the test's tansu, over the given settings' store."""

    def make(settings: Settings) -> Bench:
        settings = settings.with_overrides(kafka_bootstrap=tansu)
        ensure_topics(tansu, list(dataset.PROJECTED_TOPICS), settings.topic_partitions)
        return Bench(settings, TINY, Console(file=io.StringIO()), tmp_path)

    return make
