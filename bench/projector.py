"""Projector throughput, each figure next to its baseline over the same events in the same run.

(a) the projector against a bare kafka-python consumer that only decodes; (b) against the naive projector of
bench/naive.py; (c) a full rebuild of the views from the log; (d) one instance against two.

Every projector run starts on its own empty database with the directory already projected (master data is
loaded long before activity in practice, and training events need it to find a teacher's school), and reads
the activity and results topics from their beginning. Instances run as separate processes; the partitions
are split between them explicitly (ANP_PROJECTOR_ASSIGNMENT=all and then a subset each), because their
positions live with the views and a consumer group's rebalancing would only add join time to the figure.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from typing import Any

from kafka import TopicPartition
from pymongo.database import Database

from bench import dataset
from bench.harness import Bench, Figure
from bench.naive import NaiveProjector
from bench.store_time import install as install_store_time
from services.monitoring.projection import STATE_COLLECTIONS
from services.monitoring.projector import build_runner
from services.monitoring.rebuild import forget_projection
from services.monitoring.views import merged_documents
from shared.catalog import catalog
from shared.clients import kafka_consumer, mongo_client
from shared.projection import POSITIONS, PROJECTED_AT
from shared.settings import TOPICS, Settings

MEASURED = (*dataset.ACTIVITY_TOPICS, TOPICS["achievement"])
NAIVE_LIMIT = 5_000  # events; the naive projector is measured on the first ones of the log
NAIVE_SECONDS = 30.0
TWO_SECONDS = {"small": 45.0, "national": 90.0, "full": 180.0}  # the two-instance sample, per scale
# The rebuild, per scale: the whole log in small mode (then its views are compared with the live ones); at
# national scale the first this many seconds, since projecting the whole log again would double the run.
REBUILD_SECONDS: dict[str, float | None] = {"small": None, "national": 120.0, "full": 300.0}


@dataclass
class InstanceEnd:
    """What a projector instance reports when it stops."""

    events: int
    finished: float  # time.time()
    writes: int
    store_seconds: float
    early: tuple[int, float]  # (events, store seconds) at the run's mark, or at its end when it came first


@dataclass
class Run:
    settings: Settings
    events: int
    seconds: float
    writes: int = 0  # documents the run wrote in the store
    store_seconds: float = 0.0  # how long its instances waited on the store's replies, summed
    early: tuple[int, float] = (0, 0.0)  # (events, store seconds) over its first `mark` seconds, summed
    timeline: list[tuple[float, int]] = field(default_factory=list)  # (seconds since the start, events done)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def rate_within(self, seconds: float | None) -> float:
        """Events/s over the run's first `seconds` (the whole run when None or longer): the baseline of a
        sample timed over as long, since a run slows down as the store fills."""
        if seconds is None or seconds >= self.seconds:
            return self.rate
        early = [(t, n) for t, n in self.timeline if 0 < t <= seconds]
        return early[-1][1] / early[-1][0] if early else self.rate


def run(ctx: Bench) -> list[Figure]:
    data = dataset.build(ctx)
    dataset.produce(ctx, data)
    raw = consume_raw(ctx, MEASURED, data.count(MEASURED))
    # marked where the two instances' sample ends, to compare the store's time over the same stretch
    one = project(ctx, fresh(ctx, "one"), MEASURED, instances=1, mark=TWO_SECONDS[ctx.scale.name])
    naive = naive_sample(ctx)
    bound = REBUILD_SECONDS[ctx.scale.name]
    # a timed rebuild sample leaves its views incomplete: at national scale it rebuilds the naive run's
    # database, so the first run's views stay whole for the read benchmarks
    rebuilt, equal = rebuild(ctx, one.settings if bound is None else naive.settings, data.count(), bound)
    # two instances are measured for a bounded time: the figure needs a throughput, not the whole data set again
    two = project(ctx, fresh(ctx, "two"), MEASURED, instances=2, seconds=TWO_SECONDS[ctx.scale.name])
    ctx.shared["projected"] = one.settings  # the views of the whole data set, for the read benchmarks
    return [
        vs_raw(one, raw),
        vs_naive(one, naive),
        rebuild_figure(rebuilt, equal, one, bound),
        scaling_figure(one, two, TWO_SECONDS[ctx.scale.name]),
    ]


def fresh(ctx: Bench, name: str) -> Settings:
    """Settings of a run with its own database and group, read by every partition's owner explicitly."""
    return ctx.settings.with_overrides(
        db_prefix=f"{ctx.settings.db_prefix}_{name}",
        projector_group=f"bench-{name}",
        projector_assignment="all",
    )


# --- the baseline of (a): consume and decode, nothing else -------------------------------------------------


def consume_raw(ctx: Bench, topics: tuple[str, ...], expected: int) -> Run:
    consumer = kafka_consumer(ctx.settings, group_id=None)
    try:
        partitions = [
            TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or [])
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        done = 0
        with ctx.progress("raw consume + decode", expected) as advance:
            start = time.perf_counter()
            while done < expected:
                for records in consumer.poll(timeout_ms=100).values():
                    for record in records:
                        catalog.decode(record.value)
                    done += len(records)
                    advance(len(records))
            seconds = time.perf_counter() - start
    finally:
        consumer.close()
    return Run(ctx.settings, done, seconds)


# --- projector instances in their own processes -------------------------------------------------------------


def load_directory(ctx: Bench, settings: Settings) -> None:
    """Project the master data (not timed): the state every measured run starts from."""
    expected = len(ctx.shared["dataset"].records[TOPICS["directory"]])
    runner = build_runner(settings, [TOPICS["directory"]])
    done = 0
    with ctx.progress("directory into the views", expected) as advance:
        while done < expected:
            result = runner.step()
            done += result.applied + result.duplicates + result.dead_lettered
            advance(result.applied + result.duplicates + result.dead_lettered)
    runner.consumer.close()


def project(
    ctx: Bench,
    settings: Settings,
    topics: tuple[str, ...],
    instances: int,
    with_directory: bool = True,
    seconds: float | None = None,
    mark: float | None = None,
) -> Run:
    """Time `instances` projector processes over `topics` from their stored positions to the end, or for
    `seconds` at most (then the views are incomplete: a throughput sample only); with the events and the
    store's time after `mark` seconds too."""
    if with_directory:
        load_directory(ctx, settings)
    shares = split_partitions(ctx, topics, instances)
    spawn = multiprocessing.get_context("spawn")  # pymongo and kafka-python are not fork-safe
    start, results = spawn.Event(), spawn.Queue()
    ready = [spawn.Event() for _ in shares]
    env = settings.to_env()
    procs = [
        # daemonic: stopped with the run, however it ends
        spawn.Process(
            target=instance_main,
            args=(env, list(topics), share, ready[i], start, results, seconds, mark),
            daemon=True,
        )
        for i, share in enumerate(shares)
    ]
    for proc in procs:
        proc.start()
    for event in ready:
        event.wait(120)
    expected = sum(end for share in shares for *_, end in share)
    began = time.time()
    start.set()
    timeline = watch(ctx, settings, expected, procs, f"projector × {instances}")
    ends = [results.get(timeout=30) for _ in procs]
    for proc in procs:
        proc.join(30)
    done = sum(end.events for end in ends)
    if done != expected and seconds is None:
        raise RuntimeError(f"projector instances applied {done} of {expected} records")
    return Run(
        settings,
        done,
        max(end.finished for end in ends) - began,
        sum(end.writes for end in ends),
        sum(end.store_seconds for end in ends),
        (sum(end.early[0] for end in ends), sum(end.early[1] for end in ends)),
        timeline,
    )


def split_partitions(ctx: Bench, topics: tuple[str, ...], parts: int) -> list[list[tuple[str, int, int]]]:
    """(topic, partition, end offset) per instance: the same partition numbers of every topic, as Kafka's
    range assignor gives a group's members, so that each province and national shard is one instance's.
    The partitions and their ends are those the broker acknowledged when the data set was produced."""
    shares: list[list[tuple[str, int, int]]] = [[] for _ in range(parts)]
    for (topic, partition), end in sorted(ctx.shared["log_ends"].items()):
        if topic in topics:
            shares[partition % parts].append((topic, partition, end))
    return shares


def watch(
    ctx: Bench, settings: Settings, expected: int, procs: list[Any], what: str
) -> list[tuple[float, int]]:
    """A progress bar from the stored positions until the processes have finished; (seconds, events done)."""
    db = mongo_client(settings)[settings.db_name("monitoring")]
    timeline: list[tuple[float, int]] = []
    began = time.time()
    with ctx.progress(what, expected) as advance:
        shown = 0
        while any(p.is_alive() for p in procs):
            stored = sum(d["offset"] + 1 for d in db[POSITIONS].find({"group": settings.projector_group}))
            done = min(stored - done_before(ctx, settings), expected)
            timeline.append((time.time() - began, done))
            if done > shown:
                advance(done - shown)
                shown = done
            time.sleep(0.5)
            if any(p.exitcode not in (None, 0) for p in procs):
                raise RuntimeError(f"a projector instance failed (exit {[p.exitcode for p in procs]})")
    return timeline


def done_before(ctx: Bench, settings: Settings) -> int:
    """Records of the group's stored positions that are not part of the timed run (the directory)."""
    return 0 if ctx.shared.get("rebuilding") else len(ctx.shared["dataset"].records[TOPICS["directory"]])


def instance_main(
    env: dict[str, str],
    topics: list[str],
    share: list[tuple[str, int, int]],
    ready: Any,
    start: Any,
    out: Any,
    seconds: float | None,
    mark: float | None,
) -> None:
    """One projector instance: its partitions, from the stored positions to the given end offsets (or until
    `seconds` have passed); what it had done after `mark` seconds."""
    os.environ.update(env)
    store_time = install_store_time()
    runner = build_runner(Settings.from_env(), topics)
    partitions = [TopicPartition(t, p) for t, p, _ in share]
    runner.consumer.assign(partitions)
    runner.seek_to_stored(partitions)
    expected = sum(end for *_, end in share)
    ready.set()
    start.wait()
    store_time.reset()  # the time of the run only
    began = time.time()
    deadline = began + seconds if seconds is not None else float("inf")
    done = writes = 0
    early: tuple[int, float] | None = None
    while done < expected and time.time() < deadline:
        result = runner.step()
        done += result.applied + result.duplicates + result.dead_lettered
        writes += result.writes
        if early is None and mark is not None and time.time() - began >= mark:
            early = (done, store_time.seconds)
    out.put(InstanceEnd(done, time.time(), writes, store_time.seconds, early or (done, store_time.seconds)))
    runner.consumer.close()


# --- (b) the naive projector on a bounded sample ----------------------------------------------------------


def naive_sample(ctx: Bench) -> Run:
    settings = fresh(ctx, "naive")
    load_directory(ctx, settings)
    db = mongo_client(settings)[settings.db_name("monitoring")]
    consumer = kafka_consumer(settings, group_id=settings.projector_group)
    try:
        naive = NaiveProjector(db, consumer, list(MEASURED), settings.projector_group)
        with ctx.progress(
            f"naive projector (≤ {NAIVE_LIMIT:,} events or {NAIVE_SECONDS:g} s)", NAIVE_LIMIT
        ) as advance:
            events, seconds = naive.run(NAIVE_LIMIT, NAIVE_SECONDS, advance)
    finally:
        consumer.close()
    return Run(settings, events, seconds)


# --- (c) rebuild -------------------------------------------------------------------------------------------


def rebuild(ctx: Bench, settings: Settings, expected: int, seconds: float | None) -> tuple[Run, bool | None]:
    """Forget the views of a finished run and project every topic again (for `seconds` at most); whether the
    views come back equal, or None when the rebuild was a timed sample (the views are then incomplete)."""
    db = mongo_client(settings)[settings.db_name("monitoring")]
    before = digest(db) if seconds is None else None
    forget_projection(db, settings.projector_group)
    ctx.shared["rebuilding"] = True
    try:
        rebuilt = project(
            ctx, settings, dataset.PROJECTED_TOPICS, instances=1, with_directory=False, seconds=seconds
        )
    finally:
        ctx.shared["rebuilding"] = False
    if seconds is not None:
        return rebuilt, None
    if rebuilt.events != expected:
        raise RuntimeError(f"rebuild read {rebuilt.events} of {expected} events")
    return rebuilt, digest(db) == before


def digest(db: Database) -> str:
    """A hash of every state collection, without the batch timestamps (floats rounded: sums differ in order)."""
    sha = hashlib.sha256()
    for name in STATE_COLLECTIONS:
        for doc in merged_documents(db[name], {PROJECTED_AT: 0}).values():  # shards added up, as readers do
            sha.update(json.dumps(_rounded(doc), sort_keys=True, default=str).encode())
    return sha.hexdigest()


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


# --- figures -----------------------------------------------------------------------------------------------


def vs_raw(one: Run, raw: Run) -> Figure:
    ratio = one.rate / raw.rate
    per_event = one.writes / one.events
    # the projector's own work (consuming, decoding, folding, building its writes): the run less its store waits
    own_seconds = one.seconds - one.store_seconds
    own_rate = one.events / own_seconds if own_seconds > 0 else None
    return Figure(
        "projector_vs_raw",
        "Projector vs raw consume + decode",
        round(one.rate),
        "events/s",
        baseline="kafka-python consumer, catalog decode only",
        baseline_value=round(raw.rate),
        ratio=round(ratio, 3),
        target="ratio ≥ 0.5",
        met=ratio >= 0.5,
        details={
            "events": one.events,
            "seconds": round(one.seconds, 2),
            "raw_seconds": round(raw.seconds, 2),
            # why the ratio is what it is: how long the projector waited on the store, and the rate it would
            # reach if nothing else took any time
            "store_writes_per_event": round(per_event, 2),
            "store_seconds": round(one.store_seconds, 2),
            "store_share_of_the_run": round(one.store_seconds / one.seconds, 3),
            "events_per_s_with_the_store_alone": round(one.events / one.store_seconds)
            if one.store_seconds
            else None,
            "events_per_s_of_its_own_work": round(own_rate) if own_rate else None,
            "own_work_ratio_to_raw": round(own_rate / raw.rate, 3) if own_rate else None,
        },
    )


def vs_naive(one: Run, naive: Run) -> Figure:
    """Both from the same state and the start of the same log, each timed over as long: the naive sample's
    seconds. (Over the whole log the projector's rate also pays for a store that fills up, which the naive
    sample, bounded in time, never reaches; that ratio is kept in the details.)"""
    rate = one.rate_within(naive.seconds)
    ratio = rate / naive.rate
    return Figure(
        "projector_vs_naive",
        "Projector vs naive one-write-per-event",
        round(rate),
        "events/s",
        baseline="naive projector (bench/naive.py), over as long from the start of the same log",
        baseline_value=round(naive.rate, 1),
        ratio=round(ratio, 1),
        target="ratio ≥ 10",
        met=ratio >= 10,
        details={
            "projector_rate_whole_log": round(one.rate),
            "ratio_whole_log": round(one.rate / naive.rate, 1),
            "naive_events": naive.events,
            "naive_seconds": round(naive.seconds, 2),
            "naive_sample": f"the first {naive.events:,} events of the log (bounded: ≤ {NAIVE_LIMIT:,} events "
            f"or {NAIVE_SECONDS:g} s)",
        },
    )


def rebuild_figure(rebuilt: Run, equal: bool | None, live: Run, bound: float | None) -> Figure:
    baseline = live.rate_within(bound)
    return Figure(
        "rebuild",
        "Full rebuild of the views from the log",
        round(rebuilt.rate),
        "events/s",
        baseline="live projection of the same events" + ("" if bound is None else f", its first {bound:g} s"),
        baseline_value=round(baseline),
        ratio=round(rebuilt.rate / baseline, 3),
        details={
            "live_rate_whole_log": round(live.rate),
            "events": rebuilt.events,
            "seconds": round(rebuilt.seconds, 2),
            "views_equal_to_live": equal,
            "how": "services.monitoring.rebuild.forget_projection, then one projector over every topic",
            "sample": "the whole log" if bound is None else f"the first {bound:g} s of the rebuild",
        },
    )


def _ms_per_event(events: int, store_seconds: float) -> float | None:
    return round(1000 * store_seconds / events, 3) if events else None


def scaling_figure(one: Run, two: Run, bound: float) -> Figure:
    baseline = one.rate_within(bound)
    return Figure(
        "projector_two_instances",
        "Projector: two instances vs one",
        round(two.rate),
        "events/s",
        baseline=f"one instance, its first {bound:g} s",
        baseline_value=round(baseline),
        ratio=round(two.rate / baseline, 3),
        details={
            "one_instance_rate_whole_log": round(one.rate),
            "events": two.events,
            "seconds_two": round(two.seconds, 2),
            "seconds_one": round(one.seconds, 2),
            "assignment": "partitions split explicitly between the processes, the same partition numbers of every topic",
            "sample": f"two instances measured for at most {bound:g} s",
            # both instances wait on one store: its time per event, with one instance over the same first
            # seconds and with two
            "store_ms_per_event_one": _ms_per_event(*one.early),
            "store_ms_per_event_two": _ms_per_event(two.events, two.store_seconds),
            "cores": os.cpu_count(),
        },
    )
