"""What every benchmark shares: the run's context (servers, settings, scale, progress) and one result shape.

A benchmark is a function `run(ctx: Bench) -> list[Figure]` in a module listed in bench/__main__.py. Each
figure is measured next to its baseline in the same run, so a noisy shared machine moves both together.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shared.settings import Settings


@dataclass(frozen=True)
class Scale:
    """How big a run is. `small` finishes in minutes; `full` is Thailand's basic education."""

    name: str
    schools: int  # the directory generator's school count (77 provinces and 245 ESA areas at any size)
    events: int  # activity events of a school year over the three models
    achievement_rows: bool = True  # O-NET and NT results for every school
    # the local Kafka-protocol broker (deploy/local/servers.py). noida-db reads a long log back at a cost per
    # fetch that grows with the log (README, Benchmarks); tansu, memory-only, serves millions of records
    broker: str = "noida"


def terminal() -> Console:
    """The terminal's width, or 160 columns when written to a log, which keeps the tables readable."""
    return Console() if sys.stdout.isatty() else Console(width=160)


SCALES = {
    "small": Scale("small", schools=1_000, events=30_000),
    # the national directory and every school's results, with an eighth of a year's activity
    "national": Scale("national", schools=29_000, events=250_000, broker="tansu"),
    "full": Scale("full", schools=29_000, events=2_000_000, broker="tansu"),
}


@dataclass
class Figure:
    """One measured figure and its baseline from the same run."""

    key: str  # stable id, e.g. "projector_vs_raw"
    title: str  # what a reader sees in the table
    value: float
    unit: str  # "events/s", "ms", "req/s"
    baseline: str | None = None  # what it is compared with
    baseline_value: float | None = None
    ratio: float | None = None  # value relative to the baseline, oriented so that bigger is better
    target: str | None = None  # e.g. "ratio ≥ 0.5", "p99 ≤ 20 ms"
    met: bool | None = None  # None when the figure has no target
    details: dict[str, Any] = field(default_factory=dict)  # counts, percentiles, sizes

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Bench:
    """Handed to every benchmark: where the servers are, how big the run is, and where to show progress."""

    settings: Settings
    scale: Scale
    console: Console
    work_dir: Any  # pathlib.Path: a scratch directory of this run (data sets, logs)
    shared: dict[str, Any] = field(default_factory=dict)  # results of expensive steps benchmarks reuse

    @contextmanager
    def progress(self, what: str, total: int | None) -> Iterator[Any]:
        """A progress bar; yields `advance(n=1)`. It leaves one line behind (what, how many, how long), so
        that a run written to a log file shows its steps too."""
        started = time.monotonic()
        with Progress(
            TextColumn("  {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        ) as bar:
            task = bar.add_task(what, total=total)
            yield lambda n=1: bar.advance(task, n)
            done = int(bar.tasks[0].completed)
        self.say(f"  {what}: {f'{done:,} ' if done else ''}in {time.monotonic() - started:.1f} s")

    def say(self, message: str) -> None:
        self.console.print(f"[dim]{message}[/dim]")
