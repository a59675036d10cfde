"""`python -m services.committee.cli seed-demo`: the demo committees, for the demo directory.

Creates, through the same handlers as the API (so the same rules, events and audit apply), the school board
of 13010001 with its members, a held meeting, a resolution and an action item, and the network committee of
cluster 13P1-C01. Idempotent: each step is skipped when what it makes exists, so a re-run changes nothing.
It first waits until the directory sync has copied the schools and cluster it needs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rich.console import Console

from services.committee import handlers
from services.committee.commands import (
    AdoptResolution,
    AppointMember,
    CreateActionItem,
    EstablishCommittee,
    HoldMeeting,
    ScheduleMeeting,
)
from services.committee.domain import (
    HELD,
    NETWORK,
    SCHOOL_BOARD,
    ActionItem,
    Committee,
    Meeting,
    Resolution,
    unit_key,
)
from services.committee.repository import AbstractRepository, MongoRepository
from shared.auth import Principal
from shared.calendar import today
from shared.clients import mongo_client
from shared.errors import AppError
from shared.settings import Settings
from shared.store import Store

ACTOR = "system:committee-seed-demo"
SEED_PRINCIPAL = Principal(ACTOR, "Demo data seeder", "admin", "national", None)
SCHOOL, CLUSTER = "13010001", "13P1-C01"
ESTABLISHED = date(2024, 5, 16)
TERM_END = date(2028, 5, 15)  # a four-year term


@dataclass(frozen=True)
class Seat:
    name: str
    group: str
    role: str = "member"
    account: str | None = None


BOARD_SEATS = (
    Seat("นายประเสริฐ ทองคำ", "community_leader", "chair"),
    Seat("ผอ.วิชัย ใจกว้าง", "school_director", "secretary", "dir-13010001"),
    Seat("คุณสมชาย รักลูก", "parent", account="parent-13010001"),
    Seat("ครูมาลี ศรีสุข", "teacher"),
    Seat("พระครูสุนทรธรรม", "religious_leader"),
    Seat("นายก อบต.บางกะดี", "local_government"),
    Seat("นางสาวอรุณี ศิษย์เก่า", "alumni"),
    Seat("นายบุญมี ชุมชนดี", "community_leader"),
    Seat("ศน.สมศรี ใจดี", "esao_representative"),
)
NETWORK_SEATS = (
    Seat("ผอ.สมชาย ใจดี", "school_director", "chair"),
    Seat("เลขานุการเครือข่าย", "school_director", "secretary", "sec-13P1-C01"),
    Seat("นางวันดี ผู้ปกครองเครือข่าย", "parent"),
    Seat("นายสุวิทย์ ผู้นำชุมชน", "community_leader"),
    Seat("ผู้แทน อบจ.ปทุมธานี", "local_government"),
)
NETWORK_SEATS_TOTAL = 7


def seed_audit(action: str, target: str, before: Any = None, after: Any = None) -> dict[str, Any]:
    return {
        "actor": ACTOR,
        "role": "admin",
        "action": action,
        "target": target,
        "before": before,
        "after": after,
        "source": {"process": "services.committee.cli seed-demo"},
    }


CTX = handlers.Context(SEED_PRINCIPAL, seed_audit)


def wait_for_directory(repo: AbstractRepository, timeout_s: float, poll_s: float = 0.5) -> None:
    """The directory sync fills the local copy asynchronously: poll until the units are there."""
    deadline = time.monotonic() + timeout_s
    while repo.school(SCHOOL) is None or repo.cluster(CLUSTER) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"school {SCHOOL} and cluster {CLUSTER} did not reach the committee's directory copy within "
                f"{timeout_s:.0f} s: is services.committee.directory_sync running and the directory imported?"
            )
        time.sleep(poll_s)


def seed_demo(repo: AbstractRepository, say: Callable[[str], None], on: date) -> int:
    """Make what is missing; returns how many objects were created (0 on a re-run)."""
    created = 0
    board, made = _committee(
        repo,
        EstablishCommittee(
            SCHOOL_BOARD,
            "คณะกรรมการสถานศึกษาขั้นพื้นฐาน โรงเรียนบ้านบางกะดี",
            ESTABLISHED,
            "Ban Bang Kadi School board",
            school_code=SCHOOL,
        ),
        say,
    )
    created += made + _members(repo, board, BOARD_SEATS, say)
    network, made = _committee(
        repo,
        EstablishCommittee(
            NETWORK,
            "คณะกรรมการเครือข่ายเมืองปทุม 1",
            ESTABLISHED,
            "Mueang Pathum Network 1 committee",
            cluster_id=CLUSTER,
            seats=NETWORK_SEATS_TOTAL,
        ),
        say,
    )
    created += made + _members(repo, network, NETWORK_SEATS, say)
    return created + _meeting_chain(repo, board.id, on, say)


def _committee(
    repo: AbstractRepository, cmd: EstablishCommittee, say: Callable[[str], None]
) -> tuple[Committee, int]:
    existing = repo.committee_of_unit(unit_key(cmd.kind, cmd.school_code or cmd.cluster_id or ""))
    if existing is not None:
        say(f"[dim]exists[/dim]  {existing.name_th} ({existing.id})")
        return existing, 0
    committee = handlers.establish_committee(cmd, repo, CTX)
    say(f"[green]created[/green] {committee.name_th}: {committee.seats} seats ({committee.id})")
    return committee, 1


def _members(
    repo: AbstractRepository, committee: Committee, seats: Sequence[Seat], say: Callable[[str], None]
) -> int:
    names = {m.name for m in committee.members}
    missing = [s for s in seats if s.name not in names]
    for seat in missing:
        cmd = AppointMember(
            committee.id, seat.name, seat.group, seat.role, ESTABLISHED, TERM_END, seat.account
        )
        committee = handlers.appoint_member(cmd, repo, CTX)
    say(f"  members of {committee.id}: {len(missing)} appointed, {len(seats) - len(missing)} already seated")
    return len(missing)


def _meeting_chain(repo: AbstractRepository, board_id: str, on: date, say: Callable[[str], None]) -> int:
    """One held meeting of the board, one resolution of it and one action item of that."""
    created = 0
    # the held one: other meetings of the board (scheduled since, e.g. by tests) must not make the re-seed fail
    meetings, _ = repo.list(Meeting, {"committee_id": board_id, "status": HELD}, 1, 1)
    if meetings:
        meeting = meetings[0]
    else:
        day = on - timedelta(days=14)
        agenda = ["รับรองรายงานการประชุมครั้งที่แล้ว", "แผนพัฒนาการอ่านออกเขียนได้", "เรื่องอื่น ๆ"]
        meeting = handlers.schedule_meeting(
            ScheduleMeeting(board_id, day, agenda, "ห้องประชุมโรงเรียน", "onsite"), repo, CTX
        )
        board = repo.get(Committee, board_id)
        assert board is not None
        current = board.current_members(day)
        attendance = {m.id: ("absent" if i >= len(current) - 2 else "present") for i, m in enumerate(current)}
        meeting = handlers.hold_meeting(
            HoldMeeting(meeting.id, attendance, "ที่ประชุมเห็นชอบแผนพัฒนาการอ่าน"), repo, CTX
        )
        say(f"[green]held[/green] meeting {meeting.id}: {meeting.present}/{meeting.members_total} present")
        created += 1
    resolutions, _ = repo.list(Resolution, {"meeting_id": meeting.id}, 1, 1)
    if resolutions:
        resolution = resolutions[0]
    else:
        cmd = AdoptResolution(
            meeting.id,
            "เห็นชอบแผนพัฒนาการอ่านออกเขียนได้",
            "ให้โรงเรียนจัดกิจกรรมส่งเสริมการอ่านทุกสัปดาห์",
            {"for": 6, "against": 0, "abstain": 1},
        )
        resolution = handlers.adopt_resolution(cmd, repo, CTX)
        say(f"[green]adopted[/green] resolution {resolution.id}")
        created += 1
    items, _ = repo.list(ActionItem, {"resolution_id": resolution.id}, 1, 1)
    if not items:
        due = resolution.adopted_date + timedelta(days=60)
        item = handlers.create_action_item(
            CreateActionItem(resolution.id, "จัดกิจกรรมส่งเสริมการอ่านทุกวันศุกร์", "school", SCHOOL, due), repo, CTX
        )
        say(f"[green]created[/green] action item {item.id}, due {due.isoformat()}")
        created += 1
    return created


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m services.committee.cli", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    seed = commands.add_parser("seed-demo", help="create the demo committees (idempotent)")
    seed.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the directory copy")
    return top


def main(
    argv: Sequence[str] | None = None,
    *,
    settings: Settings | None = None,
    repository: Callable[[Settings], AbstractRepository] | None = None,
    console: Console | None = None,
) -> int:
    args = parser().parse_args(argv)
    settings = settings or Settings.from_env()
    console = console or Console()
    err = Console(stderr=True)
    store: Store | None = None
    try:
        if repository is None:
            store = Store(mongo_client(settings), settings.db_name("committee"))
            repo: AbstractRepository = _mongo_repository(store)
        else:
            repo = repository(settings)
        console.print(f"waiting for {SCHOOL} and {CLUSTER} in the committee's directory copy …")
        wait_for_directory(repo, args.timeout)
        created = seed_demo(repo, console.print, today())
    except TimeoutError as error:
        err.print(f"[red]{error}[/red]")
        return 1
    except AppError as error:
        err.print(f"[red]{error.message}[/red]")
        for name, problems in (error.errors or {}).items():
            err.print(f"  {name}: {problems}")
        return 1
    finally:
        if store is not None:
            store.client.close()
    console.print(f"demo committees: {created} objects created" + (" (nothing to do)" if not created else ""))
    return 0


def _mongo_repository(store: Store) -> AbstractRepository:
    repo = MongoRepository(store)
    repo.ensure_indexes()
    return repo


if __name__ == "__main__":
    sys.exit(main())
