"""`python -m bench.profile [--full] [--top N]`: where the projector spends its time, with cProfile.

Starts its own servers like `python -m bench`, projects the directory, then runs one projector in process over
the activity and results topics under cProfile, and prints the functions with the most time of their own and
the most time inclusive, plus the time per stage of a batch (decode, fold, store), the store's time per
command and collection, and what an upsert costs the store by the size of its document.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time

from rich.table import Table

from bench import dataset, projector
from bench.__main__ import servers
from bench.harness import SCALES, Bench, terminal
from bench.store_time import StoreTime, update_cost_by_size
from bench.store_time import install as install_store_time
from services.monitoring.projector import build_runner
from shared.clients import mongo_client

# The stages of a batch, by the functions that do them (inclusive time of each): (file, function)
STAGES = {
    "poll (kafka-python)": ("kafka/consumer/group.py", "poll"),
    "decode (catalog)": ("shared/projection.py", "_decode"),
    "transaction (store reads and writes, with the fold)": ("shared/store.py", "atomic"),
    "fold (handlers, inside the transaction)": ("services/monitoring/projection.py", "fold"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    console = terminal()
    scale = SCALES["full" if args.full else "small"]
    with servers(console, scale.broker) as (settings, work):
        report(Bench(settings, scale, console, work), args.top)
    return 0


def report(ctx: Bench, top: int, cost_documents: int = 2_000) -> None:
    """Build and publish the data set, project the directory, then profile one projector over the activity;
    then time upserts by document size over `cost_documents` documents a size."""
    data = dataset.build(ctx)
    dataset.produce(ctx, data)
    run_settings = projector.fresh(ctx, "profile")
    projector.load_directory(ctx, run_settings)
    stats, store_time, events, seconds = profiled(ctx, run_settings, data.count(projector.MEASURED))
    ctx.console.print(
        f"{events:,} events in {seconds:.1f} s under cProfile ({events / seconds:,.0f} events/s)"
    )
    ctx.console.print(stages(stats, seconds))
    ctx.console.print(store_table(store_time, seconds))
    scratch = mongo_client(run_settings)[run_settings.db_name("update_cost")]
    ctx.console.print(update_cost_table(update_cost_by_size(scratch, documents=cost_documents)))
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(stats, stream=out).sort_stats(order).print_stats(top)
        ctx.console.print(out.getvalue(), markup=False, highlight=False)


def profiled(ctx: Bench, settings: object, expected: int) -> tuple[cProfile.Profile, StoreTime, int, float]:
    store_time = install_store_time()
    runner = build_runner(settings, list(projector.MEASURED))  # type: ignore[arg-type]
    profile = cProfile.Profile()
    done = 0
    with ctx.progress("projector under cProfile", expected) as advance:
        store_time.reset()
        start = time.perf_counter()
        profile.enable()
        while done < expected:
            result = runner.step()
            n = result.applied + result.duplicates + result.dead_lettered
            done += n
            advance(n)
        profile.disable()
        seconds = time.perf_counter() - start
    runner.consumer.close()
    return profile, store_time, done, seconds


def stages(profile: cProfile.Profile, seconds: float) -> str:
    """Inclusive time per stage, as a share of the run."""
    totals = {name: 0.0 for name in STAGES}
    for (path, _, function), row in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        for name, (suffix, wanted) in STAGES.items():
            if function == wanted and path.endswith(suffix):
                totals[name] += row[3]
    return "\n".join(f"  {name:<50} {t:8.2f} s  {t / seconds:6.1%}" for name, t in totals.items())


def store_table(store_time: StoreTime, seconds: float) -> Table:
    """The store's time per command and collection, most first, as a share of the run."""
    table = Table(title=f"the store's replies: {store_time.seconds:.1f} s of {seconds:.1f} s")
    for column in (
        "command",
        "collection",
        "calls",
        "documents written",
        "seconds",
        "share",
        "ms per document",
    ):
        table.add_column(column, justify="left" if column in ("command", "collection") else "right")
    for (command, collection), tally in sorted(store_time.tallies.items(), key=lambda item: -item[1].seconds):
        per_document = f"{1000 * tally.seconds / tally.documents:.2f}" if tally.documents else ""
        table.add_row(
            command,
            collection,
            f"{tally.calls:,}",
            f"{tally.documents:,}",
            f"{tally.seconds:.2f}",
            f"{tally.seconds / seconds:.1%}",
            per_document,
        )
    return table


def update_cost_table(costs: list[tuple[int, float]]) -> Table:
    """What one upsert of 10 counters costs the store, by the size of the document it changes."""
    table = Table(title="upserts by document size", caption="in transactions, 10 counters each")
    table.add_column("document bytes", justify="right")
    table.add_column("ms a document", justify="right")
    for size, ms in costs:
        table.add_row(f"{size:,}", f"{ms:.3f}")
    return table


if __name__ == "__main__":
    sys.exit(main())
