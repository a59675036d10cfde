"""The service layer: one plain function per command — load, authorize, decide, save.

Authorization has two sources. The role table `POLICY` grants token roles rights on committees inside the
token's org scope (by committee kind); membership is data of this service, so a seat whose `account` is the
caller's `sub` grants rights too (`has_seat`), still only inside the token's scope. An action item's owner
may also note progress and complete it.

Refusals: an object the caller may not even read answers 404, for reads and writes alike (its existence is
not leaked); a write on an object the caller may read but not change answers 403. Creating a committee
outside one's role or scope answers 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from services.committee.commands import (
    AdoptResolution,
    AppointMember,
    CancelMeeting,
    CompleteActionItem,
    CreateActionItem,
    EndTerm,
    EstablishCommittee,
    HoldMeeting,
    NoteProgress,
    RecordMinutes,
    ScheduleMeeting,
)
from services.committee.domain import (
    MEMBER_ROLES,
    NETWORK,
    OWNER_SCHOOL,
    SCHOOL_BOARD,
    SECRETARY,
    ActionItem,
    Cluster,
    Committee,
    Meeting,
    Resolution,
    School,
    unit_key,
)
from services.committee.repository import AbstractRepository, E, seat_query
from services.committee.rules import rules
from shared.auth import Principal, authorize
from shared.calendar import today
from shared.catalog.committee import KINDS
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.repository import encode
from shared.schemas import org_query
from shared.service_layer import Context, Producer, check_version, load

SYSTEM_ACTOR = "system:committee-overdue-sweep"
PRODUCER = Producer("committee", SYSTEM_ACTOR, "services.committee.relay")
system_audit = PRODUCER.system_audit


@dataclass(frozen=True)
class Rule:
    """Who may do an action on a committee inside their org scope: token roles per committee kind, and
    current seat roles (a member whose `account` is the caller). `owner`: an action item's owner may too."""

    school_board: tuple[str, ...]
    network: tuple[str, ...]
    seats: tuple[str, ...] = ()
    owner: bool = False

    def roles(self, kind: str) -> tuple[str, ...]:
        return self.school_board if kind == SCHOOL_BOARD else self.network


AREA_READERS = ("supervisor", "esa_officer", "province_officer", "national_officer", "cluster_coordinator")
CREATE = Rule(school_board=("school_director", "esa_officer"), network=("esa_officer", "cluster_coordinator"))
MANAGE = Rule(school_board=("school_director",), network=("cluster_coordinator",), seats=(SECRETARY,))
# whoever may establish a committee may also staff it: an ESA officer's order appoints a network committee
APPOINT = Rule(
    school_board=tuple(dict.fromkeys((*CREATE.school_board, *MANAGE.school_board))),
    network=tuple(dict.fromkeys((*CREATE.network, *MANAGE.network))),
    seats=MANAGE.seats,
)
OWNER_OR_MANAGE = Rule(MANAGE.school_board, MANAGE.network, MANAGE.seats, owner=True)
READ = Rule(
    school_board=(*AREA_READERS, "school_director", "teacher"),
    network=AREA_READERS,
    seats=MEMBER_ROLES,  # any current member reads their committee
)
READ_ITEM = Rule(READ.school_board, READ.network, READ.seats, owner=True)
# "admin" may do everything inside its token's scope (shared.auth.authorize / `allowed`).
POLICY: dict[str, Rule] = {
    "committee.create": CREATE,
    "committee.read": READ,
    "member.appoint": APPOINT,
    "member.end_term": APPOINT,
    "meeting.schedule": MANAGE,
    "meeting.hold": MANAGE,
    "meeting.cancel": MANAGE,
    "meeting.minutes": MANAGE,
    "meeting.read": READ,
    "resolution.adopt": MANAGE,
    "resolution.read": READ,
    "action_item.create": MANAGE,
    "action_item.note": OWNER_OR_MANAGE,
    "action_item.complete": OWNER_OR_MANAGE,
    "action_item.read": READ_ITEM,
}
READ_ACTION: dict[type, str] = {
    Committee: "committee.read",
    Meeting: "meeting.read",
    Resolution: "resolution.read",
    ActionItem: "action_item.read",
}
LIST_FILTERS = ("status", "kind", "committee_id", "meeting_id", "resolution_id")


def has_seat(principal: Principal, committee: Committee, seat_roles: tuple[str, ...], on: date) -> bool:
    """Membership rights: the caller holds a current seat in one of `seat_roles`, and the token's scope
    covers the committee (a seat never reaches beyond what the token itself is scoped to)."""
    seat = committee.seat_of(principal.sub, on)
    return seat is not None and seat.role in seat_roles and principal.covers(committee.org)


def is_owner(principal: Principal, item: ActionItem) -> bool:
    """The member owning the item (inside the token's scope, like a seat), or the director of the owning school."""
    if item.owner_account is not None and item.owner_account == principal.sub and principal.covers(item.org):
        return True
    return (
        item.owner_kind == OWNER_SCHOOL
        and item.owner_org is not None
        and principal.role == "school_director"
        and principal.covers(item.owner_org)
    )


def allowed(
    principal: Principal, action: str, committee: Committee, on: date, item: ActionItem | None = None
) -> bool:
    rule = POLICY[action]
    if principal.role == "admin":
        return principal.covers(committee.org)  # any action, but only inside the token's scope
    if rule.owner and item is not None and is_owner(principal, item):
        return True
    if principal.role in rule.roles(committee.kind) and principal.covers(committee.org):
        return True
    return has_seat(principal, committee, rule.seats, on)


def check(
    principal: Principal, action: str, committee: Committee, on: date, item: ActionItem | None = None
) -> None:
    """404 when the caller may not even read the object, 403 when they may read but not do `action`."""
    if allowed(principal, action, committee, on, item):
        return
    read = READ_ACTION[type(item)] if item is not None else "committee.read"
    if allowed(principal, read, committee, on, item):
        raise Forbidden(f"you may read this committee but not do {action}")
    raise NotFound(f"no such object for {action}")


# --- committees and members -----------------------------------------------------------------------------


def establish_committee(cmd: EstablishCommittee, repo: AbstractRepository, ctx: Context) -> Committee:
    roles = CREATE.roles(cmd.kind) if cmd.kind in KINDS else ()
    authorize(ctx.principal, roles)
    unit = _unit(cmd, repo)
    authorize(ctx.principal, roles, unit.org)
    existing = repo.committee_of_unit(unit_key(cmd.kind, cmd.school_code or cmd.cluster_id or ""))
    if existing is not None:
        raise Conflict(f"{existing.id} is already the {cmd.kind} of this {_unit_name(cmd.kind)}")
    committee, events = Committee.establish(cmd, unit, rules(), ctx.principal.sub)
    PRODUCER.commit(repo, ctx, committee, events, "committee.create", before=None)
    return committee


def appoint_member(cmd: AppointMember, repo: AbstractRepository, ctx: Context) -> Committee:
    committee = load(repo, Committee, cmd.committee_id)
    check(ctx.principal, "member.appoint", committee, today())
    check_version(committee, cmd.expected_version)
    before = encode(committee)
    _, events = committee.appoint(cmd)
    PRODUCER.commit(repo, ctx, committee, events, "member.appoint", before)
    return committee


def end_term(cmd: EndTerm, repo: AbstractRepository, ctx: Context) -> Committee:
    committee = load(repo, Committee, cmd.committee_id)
    check(ctx.principal, "member.end_term", committee, today())
    check_version(committee, cmd.expected_version)
    before = encode(committee)
    events = committee.end_term(cmd)
    PRODUCER.commit(repo, ctx, committee, events, "member.end_term", before)
    return committee


# --- meetings and resolutions ---------------------------------------------------------------------------


def schedule_meeting(cmd: ScheduleMeeting, repo: AbstractRepository, ctx: Context) -> Meeting:
    committee = load(repo, Committee, cmd.committee_id)
    check(ctx.principal, "meeting.schedule", committee, today())
    meeting, events = Meeting.schedule(cmd, committee, ctx.principal.sub)
    PRODUCER.commit(repo, ctx, meeting, events, "meeting.schedule", before=None)
    return meeting


def hold_meeting(cmd: HoldMeeting, repo: AbstractRepository, ctx: Context) -> Meeting:
    meeting, committee = _meeting(repo, cmd.meeting_id, "meeting.hold", ctx.principal)
    check_version(meeting, cmd.expected_version)
    before = encode(meeting)
    events = meeting.hold(cmd, committee, rules(), today())
    PRODUCER.commit(repo, ctx, meeting, events, "meeting.hold", before)
    return meeting


def cancel_meeting(cmd: CancelMeeting, repo: AbstractRepository, ctx: Context) -> Meeting:
    meeting, _ = _meeting(repo, cmd.meeting_id, "meeting.cancel", ctx.principal)
    check_version(meeting, cmd.expected_version)
    before = encode(meeting)
    events = meeting.cancel(cmd.reason)
    PRODUCER.commit(repo, ctx, meeting, events, "meeting.cancel", before)
    return meeting


def record_minutes(cmd: RecordMinutes, repo: AbstractRepository, ctx: Context) -> Meeting:
    meeting, _ = _meeting(repo, cmd.meeting_id, "meeting.minutes", ctx.principal)
    check_version(meeting, cmd.expected_version)
    before = encode(meeting)
    events = meeting.record_minutes(cmd.minutes, today())
    PRODUCER.commit(repo, ctx, meeting, events, "meeting.minutes", before)
    return meeting


def adopt_resolution(cmd: AdoptResolution, repo: AbstractRepository, ctx: Context) -> Resolution:
    meeting, _ = _meeting(repo, cmd.meeting_id, "resolution.adopt", ctx.principal)
    resolution, events = meeting.adopt(cmd, ctx.principal.sub)
    PRODUCER.commit(repo, ctx, resolution, events, "resolution.adopt", before=None)
    return resolution


# --- action items ---------------------------------------------------------------------------------------


def create_action_item(cmd: CreateActionItem, repo: AbstractRepository, ctx: Context) -> ActionItem:
    resolution = load(repo, Resolution, cmd.resolution_id)
    committee = load(repo, Committee, resolution.committee_id)
    check(ctx.principal, "action_item.create", committee, today())
    school = repo.school(cmd.owner_id) if cmd.owner_kind == OWNER_SCHOOL else None
    item, events = resolution.create_action_item(cmd, committee, school, today())
    PRODUCER.commit(repo, ctx, item, events, "action_item.create", before=None)
    return item


def note_progress(cmd: NoteProgress, repo: AbstractRepository, ctx: Context) -> ActionItem:
    item, _ = _item(repo, cmd.action_item_id, "action_item.note", ctx.principal)
    check_version(item, cmd.expected_version)
    before = encode(item)
    events = item.note_progress(cmd, ctx.principal.sub, today())
    PRODUCER.commit(repo, ctx, item, events, "action_item.note", before)
    return item


def complete_action_item(cmd: CompleteActionItem, repo: AbstractRepository, ctx: Context) -> ActionItem:
    item, _ = _item(repo, cmd.action_item_id, "action_item.complete", ctx.principal)
    check_version(item, cmd.expected_version)
    before = encode(item)
    events = item.complete(cmd.completed_date, ctx.principal.sub, cmd.note)
    PRODUCER.commit(repo, ctx, item, events, "action_item.complete", before)
    return item


def mark_overdue_action_items(on: date, repo: AbstractRepository, batch: int = 500) -> list[ActionItem]:
    """Announce every open action item due before `on` as overdue, once: an overdue one is not open any more."""
    marked: list[ActionItem] = []
    while True:
        due = repo.past_due_action_items(on, batch)
        done = [item for item in due if _mark_overdue(item, on, repo)]
        marked += done
        if len(due) < batch or not done:
            return marked


def _mark_overdue(item: ActionItem, on: date, repo: AbstractRepository) -> bool:
    before = encode(item)
    try:
        events = item.mark_overdue(on)
        PRODUCER.save(repo, item, events, system_audit("action_item.overdue", item.id, before, encode(item)))
    except Conflict:
        return False  # completed meanwhile: nothing to announce
    return True


# --- queries --------------------------------------------------------------------------------------------


def get(kind: type[E], entity_id: str, repo: AbstractRepository, principal: Principal) -> E:
    """One object, or 404 when it is absent or the caller may not read it (the same answer)."""
    entity = load(repo, kind, entity_id)
    committee = entity if isinstance(entity, Committee) else load(repo, Committee, entity.committee_id)
    item = entity if isinstance(entity, ActionItem) else None
    if not allowed(principal, READ_ACTION[kind], committee, today(), item):
        raise NotFound(f"no {kind.__name__} {entity_id!r}")
    return entity


def list_of(
    kind: type[E], filters: dict[str, Any], repo: AbstractRepository, principal: Principal
) -> tuple[list[E], int]:
    """A page of objects matching `filters`, never beyond what the caller may read."""
    query = org_query(filters, {})
    query.update({name: filters[name] for name in LIST_FILTERS if name in filters})
    readable = {"$or": _readable(kind, principal, repo)}
    return repo.list(kind, {"$and": [query, readable]}, filters.get("page", 1), filters.get("page_size", 50))


def _readable(kind: type, principal: Principal, repo: AbstractRepository) -> list[dict[str, Any]]:
    """The alternatives that make an object readable, as `allowed` decides for one object: a reading role
    or a current seat, both inside the token's scope; or, for an action item, owning it."""
    scope = principal.scope_filter()
    if principal.role == "admin":
        return [scope]
    rule = POLICY[READ_ACTION[kind]]
    kind_field = "kind" if kind is Committee else "committee_kind"
    by_role = [k for k in KINDS if principal.role in rule.roles(k)]
    options: list[dict[str, Any]] = [{**scope, kind_field: {"$in": by_role}}] if by_role else []
    if kind is Committee:
        options.append({**scope, **seat_query(principal.sub, today())})
    else:
        seats = repo.committee_ids_with_seat(principal.sub, today())
        if seats:
            options.append({**scope, "committee_id": {"$in": seats}})
    if kind is ActionItem:
        options += _owned(principal)
    return options or [{"_id": {"$in": []}}]


def _owned(principal: Principal) -> list[dict[str, Any]]:
    owned: list[dict[str, Any]] = [{"owner_account": principal.sub, **principal.scope_filter()}]
    if principal.role == "school_director":
        owned.append({"owner_kind": OWNER_SCHOOL, **principal.scope_filter("owner_org.")})
    return owned


def rules_view() -> dict[str, Any]:
    """The seats and quorum rules as data, for `GET /committee-rules`."""
    data = rules()
    return {
        "school_board_seats": [
            {"max_students": b.max_students, "seats": b.seats} for b in data.school_board_seats
        ],
        "network_seats": {"min": data.network_min_seats, "max": data.network_max_seats},
        "quorum": {"share": float(data.quorum.share), "strictly_more": data.quorum.strictly_more},
        "source_th": data.source_th,
    }


# --- helpers --------------------------------------------------------------------------------------------


def _unit(cmd: EstablishCommittee, repo: AbstractRepository) -> School | Cluster:
    """The school of a board or the cluster of a network committee, from the local directory copy."""
    if cmd.kind == NETWORK:
        if cmd.school_code is not None or cmd.cluster_id is None:
            raise Invalid("a network committee names its cluster only", {"cluster_id": ["required"]})
        cluster = repo.cluster(cmd.cluster_id)
        if cluster is None:
            raise Invalid("unknown cluster", {"cluster_id": [cmd.cluster_id]})
        return cluster
    if cmd.cluster_id is not None or cmd.school_code is None:
        raise Invalid("a school board names its school only", {"school_code": ["required"]})
    school = repo.school(cmd.school_code)
    if school is None:
        raise Invalid("unknown school", {"school_code": [cmd.school_code]})
    return school


def _unit_name(kind: str) -> str:
    return "school" if kind == SCHOOL_BOARD else "cluster"


def _meeting(
    repo: AbstractRepository, meeting_id: str, action: str, principal: Principal
) -> tuple[Meeting, Committee]:
    meeting = load(repo, Meeting, meeting_id)
    committee = load(repo, Committee, meeting.committee_id)
    check(principal, action, committee, today())
    return meeting, committee


def _item(
    repo: AbstractRepository, item_id: str, action: str, principal: Principal
) -> tuple[ActionItem, Committee]:
    item = load(repo, ActionItem, item_id)
    committee = load(repo, Committee, item.committee_id)
    check(principal, action, committee, today(), item)
    return item, committee
