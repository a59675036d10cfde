"""A fixed-window request limit per caller, counted in the document store so every worker and instance shares it.

One window is one minute. Each request is one atomic `find_one_and_update` with `$inc` (upserted) on the document
`{_id: "<caller>|<window>"}`; a TTL index on `expires_at` removes a window's document soon after it ends.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

COLLECTION = "rate_limits"
WINDOW_S = 60


def ensure_index(db: Database) -> None:
    db[COLLECTION].create_index("expires_at", expireAfterSeconds=0)


def hit(db: Database, caller: str, limit: int, now: float | None = None) -> int:
    """Count one request of `caller`; 0 when it is allowed, else the seconds until its window ends (Retry-After)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_S)
    end = (window + 1) * WINDOW_S
    update = {
        "$inc": {"count": 1},
        # kept one extra window, so a clock a little behind still finds its count
        "$setOnInsert": {"expires_at": datetime.fromtimestamp(end + WINDOW_S, UTC)},
    }
    key = {"_id": f"{caller}|{window}"}
    try:
        doc = db[COLLECTION].find_one_and_update(
            key, update, upsert=True, return_document=ReturnDocument.AFTER
        )
    except DuplicateKeyError:  # two first requests of a window raced on the upsert: the document exists now
        doc = db[COLLECTION].find_one_and_update(key, update, return_document=ReturnDocument.AFTER)
    if doc is not None and doc["count"] > limit:
        return max(1, math.ceil(end - now))
    return 0
