"""SecantusDB's own command line (`python -m secantus`, same flags), with four of its costs taken out.

- Its TTL sweeper is off. Once a minute it decodes every document of every TTL-indexed collection while it
  holds the store's one lock, so every client waits meanwhile: 2.9 s per sweep with 150,000 applied-event ids
  on a 2-core machine, and the projector writes one id per event. MongoDB's TTL monitor deletes through the
  index instead. SecantusDB 0.7.0b3 reads `ttl_sweep_seconds` from its config file but its command line never
  hands it to the server. Local stores are scratch; expiry matters in production, on MongoDB.
- Its retryable-write records are pruned oldest first. It keeps the reply of each retryable write (up to
  10,000, for 30 minutes) so that a driver's retry is answered instead of applied twice, and before every such
  write it scanned all of them and, once full, sorted them all: 36 % of the store's time under API load once a
  run had made 10,000 writes. The records are kept in the order they were made, so the oldest are at the front.
- It keeps no oplog. SecantusDB writes one for change streams, which the platform does not use, and for an update
  it computes the change's description by comparing the whole document before and after, in Python: half of an
  update's cost, 1.0 against 0.36 ms a `$inc` upsert of a 1.8 KB document in transactions of 500. It still
  presents itself as a replica set's primary, so the driver's retryable writes and transactions behave as against
  MongoDB. MongoDB's replica set needs its oplog to replicate; it builds the entries natively.
- Its check that no two paths of an update overlap compares each path with every earlier one, twice an update:
  a fifth of its time under the projector, whose view updates add to dozens of counters each. The same rule is
  checked here against the prefixes claimed so far, in time proportional to the paths' length.
"""

import functools
import sys
from collections.abc import Mapping
from typing import Any

from secantus import cli, server, transactions, update
from secantus.server import SecantusDBServer
from secantus.storage import Storage


def prune_retryable_oldest_first(registry: Any) -> None:
    """`TransactionRegistry._prune_retryable_locked` with the same rule (drop records past their lifetime, then
    the oldest beyond the cap), touching only the records it drops and the first one it keeps."""
    records: dict[Any, tuple[Any, float, bytes]] = registry._retryable
    cutoff = registry._time() - transactions._RETRYABLE_RECORD_LIFETIME_SECONDS
    excess = len(records) - transactions._RETRYABLE_RECORD_MAX
    doomed = []
    for key, (_reply, recorded_at, _identity) in records.items():
        if len(doomed) >= excess and recorded_at >= cutoff:
            break
        doomed.append(key)
    for key in doomed:
        del records[key]


def record_retryable_last(registry: Any, lsid: bytes, txn_number: int, identity: bytes, reply: Any) -> None:
    """`TransactionRegistry.record_retryable`, with a record made again moved to the back: the front stays the
    oldest."""
    if not transactions._is_recordable_reply(reply):
        return
    with registry._lock:
        registry._retryable.pop((lsid, txn_number), None)
        stored = transactions._strip_per_attempt_fields(reply)
        registry._retryable[(lsid, txn_number)] = (stored, registry._time(), identity)
        prune_retryable_oldest_first(registry)


def overlapping_update_path(operations: Mapping[str, Any]) -> tuple[str, str] | None:
    """`secantus.update._validate_update_paths`: the first path, in document order, equal to or on the same
    branch as an earlier one, with the shorter of the two; its errors for unknown operators and empty paths,
    raised where it raises them. A `$rename` (two paths a field, not compared with each other) is left to it."""
    if "$rename" in operations:
        return ORIGINAL_OVERLAP_CHECK(operations)
    claimed: dict[tuple[str, ...], str] = {}  # earlier paths, which overlap none of each other
    branches: set[tuple[str, ...]] = set()  # their proper prefixes
    for operator, fields in operations.items():
        if not operator.startswith("$") or operator not in update._KNOWN_UPDATE_OPS:
            raise update._unknown_modifier(operator)
        if not isinstance(fields, Mapping):
            continue
        for path in fields:
            parts = _path_parts(path)
            for n in range(1, len(parts) + 1):
                earlier = claimed.get(parts[:n])
                if earlier is not None:
                    return path, earlier  # an earlier path is this one or a prefix of it
            if parts in branches:
                return path, path  # this path is a prefix of an earlier one
            claimed[parts] = path
            branches.update(parts[:n] for n in range(1, len(parts)))
    return None


def _path_parts(path: str) -> tuple[str, ...]:
    if path == "":
        raise update.UpdateError("An empty update path is not valid.", code=56)
    parts = tuple(path.split("."))
    if "" in parts:
        raise update.UpdateError(
            f"The update path '{path}' contains an empty field name, which is not allowed.", code=56
        )
    return parts


ORIGINAL_OVERLAP_CHECK = update._validate_update_paths


def storage_without_oplog(*args: Any, **options: Any) -> Storage:
    """SecantusDB's storage as its server opens it, with the oplog off whatever the server asks for."""
    return Storage(*args, **{**options, "enable_oplog": False})


def install() -> None:
    """Put the functions above in place of SecantusDB's own."""
    registry = transactions.TransactionRegistry
    registry._prune_retryable_locked = prune_retryable_oldest_first  # type: ignore[method-assign]
    registry.record_retryable = record_retryable_last  # type: ignore[method-assign]
    server.Storage = storage_without_oplog  # type: ignore[misc]
    update._validate_update_paths = overlapping_update_path


if __name__ == "__main__":
    install()
    cli.SecantusDBServer = functools.partial(SecantusDBServer, ttl_sweep_seconds=0)  # type: ignore[misc]
    sys.exit(cli.main())
