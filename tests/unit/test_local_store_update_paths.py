"""The local SecantusDB checks that an update's paths do not overlap by the same rule as its own check, in
linear time (deploy/local/secantusd.py)."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from secantus import server, transactions, update

from deploy.local import secantusd
from deploy.local.secantusd import ORIGINAL_OVERLAP_CHECK, overlapping_update_path

OPERATORS = ("$set", "$inc", "$max", "$min", "$unset", "$setOnInsert", "$rename", "$nope", "plain")
paths = st.lists(st.sampled_from(("a", "b", "c", "")), min_size=1, max_size=3).map(".".join)
fields = st.dictionaries(paths, st.one_of(st.integers(0, 3), paths), max_size=5)
updates = st.dictionaries(
    st.sampled_from(OPERATORS), st.one_of(fields, st.integers()), min_size=1, max_size=4
)


def outcome(check: Any, operations: dict[str, Any]) -> object:
    try:
        return check(operations)
    except update.UpdateError as error:
        return ("error", error.code, str(error))


@given(updates)
def test_it_finds_what_secantus_finds(operations: dict[str, Any]) -> None:
    assert outcome(overlapping_update_path, operations) == outcome(ORIGINAL_OVERLAP_CHECK, operations)


@pytest.mark.parametrize(
    ("operations", "found"),
    [
        ({"$inc": {"s.visits": 1, "s.findings": 2}, "$max": {"s.last": 3}, "$set": {"at": 4}}, None),
        ({"$set": {"a": 2}, "$inc": {"a.b": 1}}, ("a.b", "a")),
        ({"$set": {"a.b": 2}, "$inc": {"a": 1}}, ("a", "a")),
        ({"$set": {"a.b": 2}, "$inc": {"a.b.c": 1}}, ("a.b.c", "a.b")),
        ({"$set": {"ab": 2}, "$inc": {"a.b": 1, "a.bc": 1}}, None),
    ],
)
def test_overlaps_it_names(operations: dict[str, Any], found: tuple[str, str] | None) -> None:
    assert overlapping_update_path(operations) == found


def test_the_local_server_uses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for target, name in ((update, "_validate_update_paths"), (server, "Storage")):
        monkeypatch.setattr(target, name, getattr(target, name))  # undone after the test
    for name in ("_prune_retryable_locked", "record_retryable"):
        monkeypatch.setattr(
            transactions.TransactionRegistry, name, getattr(transactions.TransactionRegistry, name)
        )
    secantusd.install()
    assert update._validate_update_paths is overlapping_update_path
    with pytest.raises(update.UpdateError, match="would create a conflict at 'a'"):
        update.validate_update_doc({"$set": {"a": 2}, "$inc": {"a.b": 1}})
