"""`python -m services.monitoring.rebuild`: rebuild the monitoring views from the event log.

Two ways:

- `--shadow`: project every topic from its beginning into a shadow database (`<monitoring db>_shadow`, its own
  consumer group `<group>-shadow`) while the live views keep serving, then report whether the shadow equals the
  live projection: exit 0 when equal, 2 when not. The comparison is exact only if the live projector stands at
  the same positions (the report says whether it does): compare when the topics are quiet, or with the
  projectors stopped. `--swap` then replaces the live projection with the shadow's and exits 0 (stop the
  projectors first, as below); if it is interrupted, run it again.
- `--yes`: forget the projection in place, so the projectors rebuild every view from the log. Stop every
  projector of the group first (`docker compose stop projector`, or scale its Deployment to 0), run this, then
  start them again: with no stored positions they read each topic from its beginning (the topics keep their
  events forever for this).

Either way alerts stay: the monitoring relay judges the rebuilt units again and raises or clears only what changed.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient, TopicPartition
from kafka.errors import KafkaError
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database

from services.monitoring.projection import STATE_COLLECTIONS, MonitoringProjection
from services.monitoring.views import merged_documents
from shared.clients import kafka_consumer, mongo_client
from shared.projection import (
    APPLIED,
    POSITIONS,
    PROJECTED_AT,
    DeadLetters,
    ProjectionWriter,
    ProjectorRunner,
    Record,
    applied_event_ids,
)
from shared.settings import Settings
from shared.store import Store

# the collections a rebuild replaces: what the folds write, and the event ids they applied
PROJECTION = (*STATE_COLLECTIONS, APPLIED)
COPY_BATCH = 1000


def forget_projection(db: Database, group: str) -> dict[str, int]:
    """Delete the views, the folds' own state, the applied event ids and the group's stored positions."""
    deleted = {name: db[name].delete_many({}).deleted_count for name in PROJECTION}
    deleted[POSITIONS] = db[POSITIONS].delete_many(_of_group(group)).deleted_count
    return deleted


def active_members(settings: Settings, group: str) -> int | None:
    """How many consumers are in the projector group now; None when the broker cannot say."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=5000)
    except KafkaError:
        return None
    try:
        return len(admin.describe_groups([group])[group]["members"])
    except (KafkaError, KeyError):
        return None
    finally:
        admin.close()


# --- the shadow ---------------------------------------------------------------------------------------------


def shadow_db_name(settings: Settings) -> str:
    return f"{settings.db_name('monitoring')}_shadow"


def shadow_group(settings: Settings) -> str:
    return f"{settings.projector_group}-shadow"


@dataclass
class ShadowReport:
    applied: int = 0
    duplicates: int = 0
    invalid: int = 0  # left out, as the live projector did (it dead-lettered them already)
    # per collection, in the shadow (for the applied events: their ids)
    documents: dict[str, int] = field(default_factory=dict)
    differences: dict[str, int] = field(default_factory=dict)  # documents that differ, per collection
    same_positions: bool = False  # whether the live group stands where the shadow does

    @property
    def equal(self) -> bool:
        return self.same_positions and not any(self.differences.values())


class _AlreadyDeadLettered(DeadLetters):
    """The shadow counts invalid events and publishes nothing: the live projector dead-lettered them once."""

    def __init__(self) -> None:
        super().__init__(None)
        self.count = 0

    def publish(self, invalid: list[tuple[Record, str]]) -> None:
        self.count += len(invalid)


def build_shadow(
    settings: Settings, client: MongoClient, topics: list[str] | None = None, timeout_s: float = 3600
) -> ShadowReport:
    """Project every topic, from its beginning to where it ends now, into an emptied shadow database."""
    client.drop_database(shadow_db_name(settings))
    projection = MonitoringProjection(topics)
    dead = _AlreadyDeadLettered()
    writer = ProjectionWriter(
        Store(client, shadow_db_name(settings)), projection, shadow_group(settings), dead
    )
    consumer = kafka_consumer(settings, group_id=shadow_group(settings))
    report = ShadowReport()
    try:
        runner = ProjectorRunner(writer, consumer, assignment="all", poll_timeout_ms=500)
        ends = _ends(consumer, projection.topics)
        deadline = time.monotonic() + timeout_s
        while not _reached(writer, ends):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the shadow did not reach the end of the log in {timeout_s:.0f} s")
            result = runner.step()
            report.applied += result.applied
            report.duplicates += result.duplicates
    finally:
        consumer.close()
    report.invalid = dead.count
    return report


def _ends(consumer: Any, topics: Iterable[str]) -> dict[TopicPartition, int]:
    partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
    return {tp: end for tp, end in consumer.end_offsets(partitions).items() if end > 0}


def _reached(writer: ProjectionWriter, ends: dict[TopicPartition, int]) -> bool:
    positions = writer.positions(ends)
    return all(positions.get(tp, 0) >= end for tp, end in ends.items())


def compare_with_live(settings: Settings, client: MongoClient, report: ShadowReport) -> ShadowReport:
    """Count, per collection, the documents that differ between the live and the shadow projection (the time a
    batch wrote a document aside), and whether both groups stand at the same positions."""
    live, shadow = client[settings.db_name("monitoring")], client[shadow_db_name(settings)]
    for name in PROJECTION:
        ours = {key: _comparable(doc) for key, doc in _documents(shadow[name]).items()}
        report.documents[name] = len(ours)
        differ = sum(ours.pop(key, None) != _comparable(doc) for key, doc in _documents(live[name]).items())
        report.differences[name] = differ + len(ours)  # and those in the shadow only
    report.same_positions = _positions(live, settings.projector_group) == _positions(
        shadow, shadow_group(settings)
    )
    return report


def _documents(collection: Collection) -> dict[str, dict[str, Any]]:
    """What two projections of the same events agree on, by key: each applied event id (which batch applied it
    depends on the batches' sizes), and every other collection's documents with their shards added in."""
    if collection.name == APPLIED:
        return {event_id: {} for event_id in applied_event_ids(collection.database)}
    return merged_documents(collection)


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """A document without the time a batch wrote it."""
    return {k: v for k, v in doc.items() if k != PROJECTED_AT}


def _positions(db: Database, group: str) -> dict[tuple[str, int], int]:
    return {(d["topic"], d["partition"]): d["offset"] for d in db[POSITIONS].find(_of_group(group))}


def _of_group(group: str) -> dict[str, Any]:
    return {"_id": {"$regex": f"^{re.escape(group)}\\|"}}


def swap_in_shadow(settings: Settings, client: MongoClient) -> dict[str, int]:
    """Replace the live projection with the shadow's, and give the live group the shadow's positions, so the
    projectors carry on from where the shadow stopped. The shadow stays as it was."""
    live, shadow = client[settings.db_name("monitoring")], client[shadow_db_name(settings)]
    copied = {name: _copy(shadow[name], live[name]) for name in PROJECTION}
    group = settings.projector_group
    live[POSITIONS].delete_many(_of_group(group))
    positions = [
        {**doc, "_id": f"{group}|{doc['topic']}|{doc['partition']}", "group": group}
        for doc in shadow[POSITIONS].find(_of_group(shadow_group(settings)))
    ]
    if positions:
        live[POSITIONS].insert_many(positions)
    copied[POSITIONS] = len(positions)
    return copied


def _copy(source: Any, target: Any) -> int:
    target.delete_many({})
    batch: list[dict[str, Any]] = []
    count = 0
    for doc in source.find():
        batch.append(doc)
        if len(batch) == COPY_BATCH:
            count += len(target.insert_many(batch).inserted_ids)
            batch = []
    if batch:
        count += len(target.insert_many(batch).inserted_ids)
    return count


# --- the command --------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services.monitoring.rebuild", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--shadow", action="store_true", help="rebuild into the shadow database and compare")
    parser.add_argument(
        "--swap", action="store_true", help="with --shadow: then make the shadow the live views"
    )
    parser.add_argument(
        "--yes", action="store_true", help="forget the live views (the projectors rebuild them)"
    )
    parser.add_argument(
        "--force", action="store_true", help="even if projectors of the group seem to be running"
    )
    parser.add_argument(
        "--topic", action="append", dest="topics", help="a topic to read (default: every producer's topic)"
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to reach the end of the log")
    return parser


def _projectors_stopped(settings: Settings, force: bool) -> bool:
    members = active_members(settings, settings.projector_group)
    if members == 0 or force:
        return True
    running = "the broker cannot tell whether" if members is None else f"{members} projector(s) of"
    print(f"{running} group {settings.projector_group!r} are running: stop them first (or pass --force)")
    return False


def _print_report(settings: Settings, report: ShadowReport) -> None:
    print(
        f"shadow {shadow_db_name(settings)}: applied {report.applied}, duplicates {report.duplicates}, "
        f"invalid {report.invalid} (left out, dead-lettered by the live projector)"
    )
    for name, count in report.documents.items():
        what = "event ids" if name == APPLIED else "documents"
        print(f"  {name}: {count} {what}, {report.differences[name]} differ from the live ones")
    if not report.same_positions:
        print("  the live projector stands at other positions of the log: the comparison is indicative")
    print("the shadow equals the live views" if report.equal else "the shadow differs from the live views")


def shadow(settings: Settings, args: argparse.Namespace) -> int:
    if args.swap and not _projectors_stopped(settings, args.force):
        return 1
    client = mongo_client(settings)
    try:
        report = compare_with_live(
            settings, client, build_shadow(settings, client, args.topics, args.timeout)
        )
        _print_report(settings, report)
        if args.swap:
            for name, count in swap_in_shadow(settings, client).items():
                print(f"swapped in {name}: {count}")
            print(
                f"start the projectors of group {settings.projector_group!r}: they carry on from the shadow's end"
            )
        return 0 if report.equal or args.swap else 2
    finally:
        client.close()


def forget(settings: Settings, force: bool) -> int:
    if not _projectors_stopped(settings, force):
        return 1
    group = settings.projector_group
    db = mongo_client(settings)[settings.db_name("monitoring")]
    for name, count in forget_projection(db, group).items():
        print(f"{name}: {count} deleted")
    print(f"start the projectors of group {group!r}: they rebuild the views from the beginning of each topic")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.shadow:
        return shadow(settings, args)
    if args.swap:
        parser.error("--swap swaps in a shadow: pass --shadow too")
    if not args.yes:
        parser.error(
            "this deletes every monitoring view until the projector has rebuilt it: pass --yes "
            "(or rebuild beside the live views with --shadow)"
        )
    return forget(settings, args.force)


if __name__ == "__main__":
    sys.exit(main())
