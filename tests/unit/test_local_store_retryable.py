"""The local SecantusDB keeps its retryable-write records by the same rule, at a cost that does not grow with
how many it holds (deploy/local/secantusd.py)."""

from collections.abc import Iterator
from typing import Any

import pytest
from secantus import server, transactions
from secantus.transactions import TransactionRegistry

from deploy.local import secantusd
from deploy.local.secantusd import record_retryable_last

CAP = transactions._RETRYABLE_RECORD_MAX
LIFETIME = transactions._RETRYABLE_RECORD_LIFETIME_SECONDS
OK = {"ok": 1.0, "n": 1}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


class CountingDict(dict[Any, Any]):
    """Counts the records any scan of it visits."""

    visited = 0

    def items(self) -> Iterator[tuple[Any, Any]]:  # type: ignore[override]
        for item in super().items():
            self.visited += 1
            yield item


def record(registry: TransactionRegistry, n: int, identity: bytes = b"w") -> None:
    record_retryable_last(registry, b"session-%d" % n, n, identity, OK)


@pytest.fixture
def registry() -> TransactionRegistry:
    return TransactionRegistry(time_func=Clock())


def test_beyond_the_cap_the_oldest_records_go(registry: TransactionRegistry) -> None:
    for n in range(CAP + 3):
        record(registry, n)
    assert len(registry._retryable) == CAP
    assert (b"session-2", 2) not in registry._retryable
    assert (b"session-3", 3) in registry._retryable


def test_records_past_their_lifetime_go(registry: TransactionRegistry) -> None:
    clock: Clock = registry._time  # type: ignore[assignment]
    for n in range(5):
        record(registry, n)
    clock.now += LIFETIME + 1
    record(registry, 5)
    assert list(registry._retryable) == [(b"session-5", 5)]


def test_a_record_made_again_counts_as_the_newest(registry: TransactionRegistry) -> None:
    for n in range(CAP):
        record(registry, n)
    record(registry, 0, identity=b"again")  # the oldest, recorded again
    record(registry, CAP)
    assert registry._retryable[(b"session-0", 0)][2] == b"again"
    assert (b"session-1", 1) not in registry._retryable


def test_a_failed_write_leaves_the_record_alone(registry: TransactionRegistry) -> None:
    record(registry, 0)
    record_retryable_last(registry, b"session-0", 0, b"other", {"ok": 0.0, "errmsg": "conflict"})
    assert registry._retryable[(b"session-0", 0)][2] == b"w"


def test_a_write_at_the_cap_visits_only_the_records_it_drops(registry: TransactionRegistry) -> None:
    registry._retryable = CountingDict()
    for n in range(CAP):
        record(registry, n)
    registry._retryable.visited = 0
    for n in range(CAP, CAP + 100):
        record(registry, n)
    # each write visits the record it drops and the first one it keeps
    assert registry._retryable.visited <= 2 * 100


def test_the_server_answers_a_retry_from_the_kept_record(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("_prune_retryable_locked", "record_retryable"):  # undone after the test
        monkeypatch.setattr(TransactionRegistry, name, getattr(TransactionRegistry, name))
    monkeypatch.setattr(server, "Storage", server.Storage)
    secantusd.install()
    registry = TransactionRegistry(time_func=Clock())
    registry.record_retryable(b"session", 7, b"w", OK)
    assert registry.retryable_reply(b"session", 7, b"w") == OK
    assert registry.retryable_reply(b"session", 7, b"different write") is None
