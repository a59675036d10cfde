"""`Idempotency-Key` for writes: the first response for (caller, key) is stored and replayed.

A key is claimed before the write runs, so two concurrent retries cannot both act; a key reused with a
different request body is refused.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared.envelope import utcnow
from shared.errors import Conflict, Invalid

COLLECTION = "idempotency"


def _fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def claim(db: Database, actor: str, key: str, method: str, path: str, body: bytes) -> dict[str, Any] | None:
    """Claim the key; return the stored response when this request was already answered."""
    if not 1 <= len(key) <= 100 or not key.isprintable():
        raise Invalid("Idempotency-Key must be 1-100 printable characters")
    doc_id = f"{actor}\x1f{key}"
    fingerprint = _fingerprint(method, path, body)
    try:
        db[COLLECTION].insert_one(
            {"_id": doc_id, "fingerprint": fingerprint, "state": "running", "at": utcnow()}
        )
        return None
    except DuplicateKeyError:
        doc = db[COLLECTION].find_one({"_id": doc_id}) or {}
    if doc.get("fingerprint") != fingerprint:
        raise Invalid("this Idempotency-Key was used for a different request")
    if doc.get("state") != "done":
        raise Conflict("a request with this Idempotency-Key is still running")
    return {"status": doc["status"], "body": json.loads(doc["body"])}


def complete(db: Database, actor: str, key: str, status: int, body: Any) -> None:
    db[COLLECTION].update_one(
        {"_id": f"{actor}\x1f{key}"},
        {"$set": {"state": "done", "status": status, "body": json.dumps(body, default=str)}},
    )


def release(db: Database, actor: str, key: str) -> None:
    """A failed request frees its key so the caller may retry."""
    db[COLLECTION].delete_one({"_id": f"{actor}\x1f{key}", "state": "running"})
