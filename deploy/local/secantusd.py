"""SecantusDB's own command line (`python -m secantus`, same flags), with three of its costs taken out.

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
"""

import functools
import sys
from typing import Any

from secantus import cli, server, transactions
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


def storage_without_oplog(*args: Any, **options: Any) -> Storage:
    """SecantusDB's storage as its server opens it, with the oplog off whatever the server asks for."""
    return Storage(*args, **{**options, "enable_oplog": False})


def install() -> None:
    """Put the functions above in place of SecantusDB's own."""
    registry = transactions.TransactionRegistry
    registry._prune_retryable_locked = prune_retryable_oldest_first  # type: ignore[method-assign]
    registry.record_retryable = record_retryable_last  # type: ignore[method-assign]
    server.Storage = storage_without_oplog  # type: ignore[misc]


if __name__ == "__main__":
    install()
    cli.SecantusDBServer = functools.partial(SecantusDBServer, ttl_sweep_seconds=0)  # type: ignore[misc]
    sys.exit(cli.main())
