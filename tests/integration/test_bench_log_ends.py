"""The bench knows where its log ends from the producer's acknowledgements, also on tansu (whose `end_offsets`
answer the last batch's base offset + 1): the projector runs of the national scales read up to those ends."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from kafka import TopicPartition

from bench import dataset, projector
from bench.harness import Bench
from shared.clients import kafka_consumer
from shared.settings import Settings


def test_the_acknowledged_ends_are_where_each_partition_ends(tiny_bench: Callable[[Settings], Bench]) -> None:
    ctx = tiny_bench(Settings())
    settings = ctx.settings
    data = dataset.build(ctx)
    dataset.produce(ctx, data)

    read = read_back(settings, dataset.PROJECTED_TOPICS, data.count())
    assert ctx.shared["log_ends"] == {tp: n for tp, n in read.items()}
    shares = projector.split_partitions(ctx, dataset.PROJECTED_TOPICS, 2)
    assert sum(end for share in shares for *_, end in share) == data.count()
    assert {p % 2 for _, p, _ in shares[0]} == {0} and {p % 2 for _, p, _ in shares[1]} == {1}


def read_back(settings: Settings, topics: tuple[str, ...], expected: int) -> Counter[tuple[str, int]]:
    """Records per (topic, partition), read from the beginning until `expected` have come."""
    consumer = kafka_consumer(settings, group_id=None)
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or []]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        counts: Counter[tuple[str, int]] = Counter()
        for _ in range(600):  # polls of at most 100 ms: a minute
            for tp, records in consumer.poll(timeout_ms=100).items():
                counts[tp.topic, tp.partition] += len(records)
            if sum(counts.values()) >= expected:
                break
        assert sum(counts.values()) == expected
        return counts
    finally:
        consumer.close()
