"""The bench's measure of the store's time: every command a client sends, by command and collection, with the
documents each write command carried."""

from __future__ import annotations

import pytest
from pymongo import MongoClient, UpdateOne

from bench.store_time import StoreTime, update_cost_by_size
from shared.settings import Settings

pytestmark = pytest.mark.integration


def test_the_store_time_counts_each_command_its_collection_and_documents(
    settings: Settings, unique: str
) -> None:
    listener = StoreTime()
    client: MongoClient = MongoClient(settings.mongo_uri, event_listeners=[listener])
    try:
        db = client[f"{settings.db_prefix}_{unique}_store_time"]
        db.views.insert_many([{"_id": n} for n in range(3)])
        db.views.bulk_write([UpdateOne({"_id": n}, {"$inc": {"n": 1}}) for n in range(2)], ordered=False)
        assert len(list(db.views.find({"_id": {"$in": [0, 1]}}))) == 2
        db.activity.insert_one({"_id": "a"})

        tallies = listener.tallies
        assert (tallies["insert", "views"].calls, tallies["insert", "views"].documents) == (1, 3)
        assert (tallies["update", "views"].calls, tallies["update", "views"].documents) == (1, 2)
        assert (tallies["find", "views"].calls, tallies["find", "views"].documents) == (1, 0)
        assert tallies["insert", "activity"].documents == 1
        assert all(tally.seconds > 0 for tally in tallies.values())
        assert listener.seconds == sum(tally.seconds for tally in tallies.values())

        listener.reset()
        db.views.find_one({"_id": 2})
        assert list(listener.tallies) == [("find", "views")]
    finally:
        client.close()


def test_the_update_cost_is_timed_per_document_size_on_scratch_collections(
    settings: Settings, unique: str
) -> None:
    client: MongoClient = MongoClient(settings.mongo_uri)
    try:
        db = client[f"{settings.db_prefix}_{unique}_update_cost"]
        costs = update_cost_by_size(db, sections=(1, 4), documents=30, batch=20)
        (small, small_ms), (large, large_ms) = costs
        assert 100 < small < large  # four sections of ten counters weigh more than one
        assert small_ms > 0 and large_ms > 0
        assert db.list_collection_names() == []  # its collections are dropped again
    finally:
        client.close()
