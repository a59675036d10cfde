"""The figures cache: reused while the projector's positions stay, emptied when they move, bounded, and never
used for views the projector did not write."""

from __future__ import annotations

from typing import Any

from services.monitoring.figures_cache import FiguresCache
from shared.projection import POSITIONS


class Positions:
    """The positions collection of an in-memory database: the only thing the cache reads."""

    def __init__(self) -> None:
        self.docs: list[dict[str, Any]] = []

    def find(self, query: dict[str, Any], projection: dict[str, Any]) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["group"] == query["group"]]

    def move(self, offset: int, group: str = "g") -> None:
        self.docs = [d for d in self.docs if d["group"] != group] + [
            {"_id": f"{group}|t|0", "group": group, "offset": offset}
        ]


class Db(dict):
    def __init__(self) -> None:
        super().__init__({POSITIONS: Positions()})

    @property
    def positions(self) -> Positions:
        return self[POSITIONS]


def counting(value: str) -> tuple[list[int], Any]:
    calls = [0]

    def compute() -> list[dict[str, Any]]:
        calls[0] += 1
        return [{"v": value, "n": calls[0]}]

    return calls, compute


def test_figures_are_reused_until_the_positions_move() -> None:
    db, cache = Db(), FiguresCache("g")
    db.positions.move(10)
    calls, compute = counting("a")
    assert cache.figures(db, "page", compute) == cache.figures(db, "page", compute) == [{"v": "a", "n": 1}]
    assert calls == [1] and (cache.hits, cache.misses) == (1, 1)
    db.positions.move(11)
    assert cache.figures(db, "page", compute) == [{"v": "a", "n": 2}]


def test_another_groups_positions_do_not_empty_it() -> None:
    db, cache = Db(), FiguresCache("g")
    db.positions.move(10)
    calls, compute = counting("a")
    cache.figures(db, "page", compute)
    db.positions.move(99, group="shadow")
    cache.figures(db, "page", compute)
    assert calls == [1]


def test_views_without_positions_are_never_cached() -> None:
    db, cache = Db(), FiguresCache("g")
    calls, compute = counting("a")
    cache.figures(db, "page", compute)
    cache.figures(db, "page", compute)
    assert calls == [2]


def test_keys_are_separate_and_the_oldest_page_goes_first() -> None:
    db, cache = Db(), FiguresCache("g", max_pages=2)
    db.positions.move(1)
    calls = {k: counting(k) for k in "abc"}
    for key in "abca":
        cache.figures(db, key, calls[key][1])
    assert [calls[k][0][0] for k in "abc"] == [2, 1, 1]  # "a" was evicted by "c" and computed again


def test_a_batch_applied_while_computing_is_not_cached_under_the_old_positions() -> None:
    db, cache = Db(), FiguresCache("g")
    db.positions.move(1)

    def compute_while_a_batch_lands() -> list[dict[str, Any]]:
        db.positions.move(2)
        cache.figures(db, "other", lambda: [])  # a reader that sees the new positions empties the cache
        return [{"v": "mixed"}]

    cache.figures(db, "page", compute_while_a_batch_lands)
    _, compute = counting("fresh")
    assert cache.figures(db, "page", compute) == [{"v": "fresh", "n": 1}]
