"""Every paged list the services serve has an index in its order, in the real store: equality on the org level
the caller is scoped to, then the list's sort keys and `_id`. MongoDB then walks the index and stops at the
page's limit; with the period between the level and the sort keys (as before), a list without a year had to be
sorted in memory, every match of it."""

from __future__ import annotations

import pytest

from services.achievement.repository import MongoRepository as AchievementRepository
from services.committee.repository import MongoRepository as CommitteeRepository
from services.supervision.repository import MongoRepository as SupervisionRepository
from services.training.repository import MongoRepository as TrainingRepository
from shared.clients import mongo_client
from shared.repository import ORG_FIELDS, MongoRepository
from shared.settings import Settings
from shared.store import Store

pytestmark = pytest.mark.integration

REPOSITORIES = [AchievementRepository, CommitteeRepository, SupervisionRepository, TrainingRepository]


def index_keys(repo: MongoRepository, collection: str) -> list[list[tuple[str, int]]]:
    return [list(info["key"]) for info in repo.db[collection].index_information().values()]


@pytest.mark.parametrize("repository", REPOSITORIES, ids=lambda r: r.__module__.split(".")[1])
def test_every_scoped_list_is_served_by_an_index_in_list_order(
    repository: type[MongoRepository], settings: Settings, unique: str
) -> None:
    repo = repository(Store(mongo_client(settings), settings.db_name(unique)))
    repo.ensure_indexes()

    for kind, collection in repo.collections.items():
        in_order = [*repo.sort[kind], ("_id", 1)]
        indexes = index_keys(repo, collection)
        for level in ORG_FIELDS:
            wanted = [(f"org.{level}", 1), *in_order]
            assert any(keys[: len(wanted)] == wanted for keys in indexes), (collection, level, indexes)
        # a national caller's list has no org equality: the sort keys lead
        assert any(keys[: len(in_order)] == in_order for keys in indexes), (collection, indexes)


@pytest.mark.parametrize("repository", REPOSITORIES, ids=lambda r: r.__module__.split(".")[1])
def test_the_list_indexes_of_the_layout_before_are_dropped(
    repository: type[MongoRepository], settings: Settings, unique: str
) -> None:
    repo = repository(Store(mongo_client(settings), settings.db_name(unique)))
    before = {kind: repo._superseded_index_keys(kind) for kind in repo.collections}
    for kind, collection in repo.collections.items():
        for keys in before[kind]:
            repo.db[collection].create_index(keys)  # as a database created before the layout changed has them
    repo.ensure_indexes()
    repo.ensure_indexes()  # a second start finds nothing left to drop

    for kind, collection in repo.collections.items():
        indexes = index_keys(repo, collection)
        assert not [keys for keys in before[kind] if keys in indexes], (collection, indexes)
        assert all(keys in indexes for keys in repo._list_index_keys(kind))
