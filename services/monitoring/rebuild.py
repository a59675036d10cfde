"""`python -m services.monitoring.rebuild --yes`: forget the projection, so the projector rebuilds every view
from the event log.

Stop every projector of the group first (`docker compose stop projector`, or scale its Deployment to 0), run
this, then start them again: with no stored positions they read each topic from its beginning (the topics keep
their events forever for this). Alerts stay: the monitoring relay judges the rebuilt units again and raises or
clears only what changed.
"""

from __future__ import annotations

import argparse
import re
import sys

from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from pymongo.database import Database

from services.monitoring.projection import STATE_COLLECTIONS
from shared.clients import mongo_client
from shared.projection import APPLIED, POSITIONS
from shared.settings import Settings


def forget_projection(db: Database, group: str) -> dict[str, int]:
    """Delete the views, the folds' own state, the applied event ids and the group's stored positions."""
    deleted = {name: db[name].delete_many({}).deleted_count for name in (*STATE_COLLECTIONS, APPLIED)}
    mine = {"_id": {"$regex": f"^{re.escape(group)}\\|"}}
    deleted[POSITIONS] = db[POSITIONS].delete_many(mine).deleted_count
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.monitoring.rebuild", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--yes", action="store_true", help="really delete the views (they are rebuilt from the log)"
    )
    parser.add_argument(
        "--force", action="store_true", help="even if projectors of the group seem to be running"
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    group = settings.projector_group
    if not args.yes:
        parser.error("this deletes every monitoring view until the projector has rebuilt it: pass --yes")
    members = active_members(settings, group)
    if members != 0 and not args.force:
        running = "the broker cannot tell whether" if members is None else f"{members} projector(s) of"
        print(f"{running} group {group!r} are running: stop them first (or pass --force)")
        return 1
    db = mongo_client(settings)[settings.db_name("monitoring")]
    for name, count in forget_projection(db, group).items():
        print(f"{name}: {count} deleted")
    print(f"start the projectors of group {group!r}: they rebuild the views from the beginning of each topic")
    return 0


if __name__ == "__main__":
    sys.exit(main())
