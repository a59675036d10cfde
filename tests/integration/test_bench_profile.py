"""`python -m bench.profile` end to end at a tiny scale: the projector profiled over the whole activity, its
stages, and the store's time per command and collection."""

from __future__ import annotations

import io
import multiprocessing
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from bench import dataset, profile, projector
from bench.harness import Bench, Scale
from shared.settings import Settings

pytestmark = pytest.mark.integration


def profile_report(settings: Settings, scale: Scale, work_dir: Path, out: Path) -> None:
    """In a process of its own: the profile registers a command listener for every client of its process."""
    console = Console(file=io.StringIO(), width=200)
    profile.report(Bench(settings, scale, console, work_dir), top=5, cost_documents=40)
    out.write_text(console.file.getvalue())  # type: ignore[attr-defined]


def test_the_profile_reports_every_event_its_stages_and_the_stores_time(
    tiny_bench: Callable[[Settings], Bench], settings: Settings, unique: str, tmp_path: Path
) -> None:
    ctx = tiny_bench(settings.with_overrides(db_prefix=f"{settings.db_prefix}_{unique}"))
    out = tmp_path / "profile.txt"
    child = multiprocessing.get_context("spawn").Process(
        target=profile_report, args=(ctx.settings, ctx.scale, ctx.work_dir, out)
    )
    child.start()
    child.join(timeout=300)
    assert child.exitcode == 0
    text = out.read_text()

    events = re.search(r"([\d,]+) events in [\d.]+ s under cProfile", text)
    assert events and int(events[1].replace(",", "")) == dataset.build(ctx).count(projector.MEASURED)
    for stage in profile.STAGES:
        seconds = re.search(re.escape(stage) + r"\s+([\d.]+) s", text)
        assert seconds and float(seconds[1]) > 0, stage  # each stage's function was found in the profile
    assert re.search(r"the store's replies: [\d.]+ s of [\d.]+ s", text)
    assert re.search(
        r"update\W+views\W+[1-9][\d,]*\W+[1-9][\d,]*\W", text
    )  # view upserts, with their documents
    assert re.search(r"upserts by document size(.|\n)*document bytes(.|\n)*ms a document", text)
    assert "ncalls" in text and "tottime" in text  # the function tables
