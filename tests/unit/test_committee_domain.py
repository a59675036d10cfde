"""Committee rules: seats from data, term overlaps, quorum, attendance, resolutions, action items, and the
handlers (authorize, decide, save with events and audit) over an in-memory repository."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.committee import handlers
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
    ActionItem,
    Committee,
    InvalidTransition,
    Meeting,
    Member,
    Resolution,
    RuleViolation,
    most_concurrent,
)
from services.committee.rules import parse, rules
from shared.auth import Principal
from shared.catalog import catalog
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from tests.unit.fakes_committee import FakeRepository

TODAY = date(2026, 11, 23)
START, END = date(2025, 5, 16), date(2029, 5, 15)
MEETING_DAY = date(2026, 11, 10)
GROUPS = ("parent", "teacher", "community_leader", "alumni", "local_government", "religious_leader")


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers, "today", lambda: TODAY)


@pytest.fixture
def repo() -> FakeRepository:
    return FakeRepository()


def who(
    role: str = "admin", level: str = "national", code: str | None = None, sub: str = ""
) -> handlers.Context:
    return handlers.Context(Principal(sub or f"{role}-{code}", "", role, level, code))


ADMIN = who()


def establish(
    repo: FakeRepository, kind: str = "school_board", ctx: handlers.Context = ADMIN, **kw: Any
) -> Committee:
    fields = {"school_code": "13010001"} if kind == "school_board" else {"cluster_id": "13P1-C01", "seats": 7}
    cmd = EstablishCommittee(kind, "คณะกรรมการ", date(2025, 5, 16), **{**fields, **kw})
    return handlers.establish_committee(cmd, repo, ctx)


def appoint(
    repo: FakeRepository,
    committee: Committee,
    role: str = "member",
    group: str = "parent",
    start: date = START,
    end: date = END,
    account: str | None = None,
    ctx: handlers.Context = ADMIN,
) -> Member:
    cmd = AppointMember(committee.id, f"กรรมการ {len(committee.members)}", group, role, start, end, account)
    updated = handlers.appoint_member(cmd, repo, ctx)
    committee.members, committee.version = updated.members, updated.version
    return updated.members[-1]


def seated(repo: FakeRepository, count: int, kind: str = "school_board", **kw: Any) -> Committee:
    committee = establish(repo, kind, **kw)
    for i in range(count):
        appoint(repo, committee, group=GROUPS[i % len(GROUPS)])
    return committee


def held(repo: FakeRepository, committee: Committee, present: int) -> Meeting:
    meeting = handlers.schedule_meeting(ScheduleMeeting(committee.id, MEETING_DAY, ["วาระที่ 1"]), repo, ADMIN)
    current = [m.id for m in committee.current_members(MEETING_DAY)]
    attendance = {m: ("present" if i < present else "absent") for i, m in enumerate(current)}
    return handlers.hold_meeting(HoldMeeting(meeting.id, attendance), repo, ADMIN)


def resolution_of(repo: FakeRepository, meeting: Meeting) -> Resolution:
    return handlers.adopt_resolution(AdoptResolution(meeting.id, "มติ", "ข้อความ"), repo, ADMIN)


def item_of(
    repo: FakeRepository, resolution: Resolution, due: date = date(2026, 12, 15), **kw: Any
) -> ActionItem:
    owner = {"owner_kind": "school", "owner_id": "13010001", **kw}
    return handlers.create_action_item(
        CreateActionItem(resolution.id, "ทำงาน", due_date=due, **owner), repo, ADMIN
    )


# --- rules as data --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("students", "seats"), [(0, 9), (96, 9), (300, 9), (301, 15), (342, 15), (5000, 15)])
def test_board_seats_follow_students(students: int, seats: int) -> None:
    assert rules().board_seats(students) == seats


def test_seats_and_quorum_come_from_the_data() -> None:
    other = parse(
        {
            "school_board_seats": [{"max_students": None, "seats": 11}, {"max_students": 100, "seats": 7}],
            "network_seats": {"min": 5, "max": 9},
            "quorum": {"share": 0.6, "strictly_more": False},
            "source_th": "ทดสอบ",
        }
    )
    assert (other.board_seats(100), other.board_seats(101)) == (7, 11)
    assert (other.quorum.required(10), other.quorum.required(9)) == (6, 6)


@pytest.mark.parametrize(("members", "needed"), [(9, 5), (15, 8), (4, 3), (1, 1), (2, 2), (7, 4)])
def test_quorum_is_more_than_half(members: int, needed: int) -> None:
    quorum = rules().quorum
    assert quorum.required(members) == needed
    assert quorum.reached(needed, members) and not quorum.reached(needed - 1, members)


# --- committees -----------------------------------------------------------------------------------------


def test_a_school_board_takes_its_schools_org_and_seats(repo: FakeRepository) -> None:
    board = establish(repo)
    assert (board.kind, board.unit, board.seats, board.school_code, board.cluster_id) == (
        "school_board",
        "school:13010001",
        15,
        "13010001",
        None,
    )
    assert board.org == repo.school("13010001").org
    assert establish(repo, school_code="13010002").seats == 9
    assert repo.event_types() == ["committee.CommitteeEstablished"] * 2
    assert repo.payloads("committee.CommitteeEstablished")[0]["period"] == {
        "academic_year": 2568,
        "semester": 1,
    }


def test_a_network_committee_belongs_to_its_cluster(repo: FakeRepository) -> None:
    network = establish(repo, "network")
    assert (network.seats, network.org.school_code, network.org.cluster_id, network.org.esa_code) == (
        7,
        None,
        "13P1-C01",
        "13P1",
    )


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("network", {"seats": 2}),
        ("network", {"seats": 26}),
        ("network", {"seats": None}),
        ("school_board", {"seats": 9}),  # a board's seats are not chosen
        ("school_board", {"school_code": "99999999"}),
        ("network", {"cluster_id": "99P9-C09"}),
        ("network", {"school_code": "13010001"}),
    ],
)
def test_invalid_committees_are_refused(repo: FakeRepository, kind: str, fields: dict[str, Any]) -> None:
    with pytest.raises(Invalid):
        establish(repo, kind, **fields)
    assert repo.saves == 0


def test_one_committee_per_school_and_cluster(repo: FakeRepository) -> None:
    establish(repo)
    establish(repo, "network")
    with pytest.raises(Conflict, match="already"):
        establish(repo)
    with pytest.raises(Conflict):
        establish(repo, "network", seats=9)
    assert repo.saves == 2


def test_who_may_establish(repo: FakeRepository) -> None:
    establish(repo, ctx=who("school_director", "school", "13010001"))
    establish(repo, "network", ctx=who("cluster_coordinator", "cluster", "13P1-C01"))
    establish(repo, school_code="13010002", ctx=who("esa_officer", "esa", "13P1"))
    for ctx, kind, school in (
        (who("school_director", "school", "13010001"), "school_board", "13010003"),  # another school
        (who("cluster_coordinator", "cluster", "13P1-C01"), "school_board", "13010003"),  # not a board
        (who("teacher", "school", "13010003"), "school_board", "13010003"),
        (who("esa_officer", "esa", "50P1"), "school_board", "13010003"),  # another area
        (who("committee_secretary", "school", "13010003"), "school_board", "13010003"),
    ):
        with pytest.raises(Forbidden):
            establish(repo, kind, ctx=ctx, school_code=school)
    assert repo.saves == 3


# --- members --------------------------------------------------------------------------------------------


def test_seats_are_never_exceeded_on_any_day(repo: FakeRepository) -> None:
    board = seated(repo, 9, school_code="13010002")  # 9 seats, all taken 2025-2029
    with pytest.raises(RuleViolation, match="seats"):
        appoint(repo, board, start=date(2027, 1, 1), end=date(2027, 2, 1))
    # a seat freed early can be taken from the day after
    leaving = board.members[0]
    handlers.end_term(EndTerm(board.id, leaving.id, date(2026, 12, 31), "ลาออก"), repo, ADMIN)
    board = repo.get(Committee, board.id)
    appoint(repo, board, start=date(2027, 1, 1), end=END)
    with pytest.raises(RuleViolation):
        appoint(repo, board, start=date(2026, 12, 31), end=date(2027, 1, 1))


def test_most_concurrent_counts_overlaps_not_totals() -> None:
    def m(start: str, end: str) -> Member:
        return Member("m", "n", "parent", "member", date.fromisoformat(start), date.fromisoformat(end))

    sequential = [m("2025-01-01", "2025-06-30"), m("2025-07-01", "2025-12-31"), m("2026-01-01", "2026-06-30")]
    assert most_concurrent(sequential, date(2025, 1, 1), date(2026, 12, 31)) == 1
    stacked = [*sequential, m("2025-03-01", "2025-08-01")]
    assert most_concurrent(stacked, date(2025, 1, 1), date(2026, 12, 31)) == 2
    assert most_concurrent(stacked, date(2027, 1, 1), date(2027, 12, 31)) == 0


def test_one_chair_and_one_secretary_at_a_time(repo: FakeRepository) -> None:
    board = establish(repo)
    chair = appoint(repo, board, "chair", "community_leader", end=date(2026, 12, 31))
    appoint(repo, board, "secretary", "school_director")
    with pytest.raises(RuleViolation, match="chair"):
        appoint(repo, board, "chair", start=date(2026, 12, 1))
    with pytest.raises(RuleViolation, match="secretary"):
        appoint(repo, board, "secretary", start=date(2028, 1, 1))
    successor = appoint(repo, board, "chair", start=date(2027, 1, 1))  # after the first chair's term
    assert board.holder("chair", TODAY) == chair
    assert board.holder("chair", date(2027, 6, 1)) == successor


def test_an_account_holds_one_seat_and_terms_are_ordered(repo: FakeRepository) -> None:
    board = establish(repo)
    appoint(repo, board, account="parent-13010001")
    with pytest.raises(RuleViolation, match="account"):
        appoint(repo, board, account="parent-13010001")
    with pytest.raises(RuleViolation):
        appoint(repo, board, start=date(2027, 1, 1), end=date(2026, 1, 1))
    with pytest.raises(RuleViolation):
        appoint(repo, board, start=date(2024, 1, 1))  # before the committee was established


def test_ending_a_term_early(repo: FakeRepository) -> None:
    board = seated(repo, 2)
    member = board.members[0]
    updated = handlers.end_term(EndTerm(board.id, member.id, date(2026, 10, 31), "ย้ายที่อยู่"), repo, ADMIN)
    ended = updated.member(member.id)
    assert (ended.term_end, ended.ended_early, updated.version) == (date(2026, 10, 31), True, 4)
    assert not ended.current_on(TODAY)
    assert updated.vacancies(TODAY) == 14
    assert repo.event_types()[-1] == "committee.MemberTermEnded"
    assert repo.payloads("committee.MemberTermEnded")[0]["reason"] == "ย้ายที่อยู่"
    with pytest.raises(InvalidTransition):
        handlers.end_term(EndTerm(board.id, member.id, date(2026, 10, 1)), repo, ADMIN)
    with pytest.raises(RuleViolation):
        handlers.end_term(EndTerm(board.id, board.members[1].id, date(2030, 1, 1)), repo, ADMIN)
    with pytest.raises(RuleViolation):
        handlers.end_term(EndTerm(board.id, "member-none", date(2026, 1, 1)), repo, ADMIN)


# --- meetings -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "present", "needed", "reached"),
    [
        (9, 5, 5, True),
        (9, 4, 5, False),
        (15, 8, 8, True),
        (15, 7, 8, False),
        (4, 3, 3, True),
        (4, 2, 3, False),
    ],
)
def test_holding_computes_quorum(
    repo: FakeRepository, members: int, present: int, needed: int, reached: bool
) -> None:
    meeting = held(repo, seated(repo, members), present)
    assert (meeting.status, meeting.members_total, meeting.present) == ("held", members, present)
    assert (meeting.quorum_required, meeting.quorum_reached) == (needed, reached)
    payload = repo.payloads("committee.MeetingHeld")[0]
    assert (payload["quorum_required"], payload["quorum_reached"], payload["committee_kind"]) == (
        needed,
        reached,
        "school_board",
    )
    assert {a["stakeholder_group"] for a in payload["attendance"]} <= set(GROUPS)
    assert len(payload["attendance"]) == members


def test_attendance_covers_every_current_member_and_only_them(repo: FakeRepository) -> None:
    board = seated(repo, 3)
    meeting = handlers.schedule_meeting(ScheduleMeeting(board.id, MEETING_DAY, ["วาระ"]), repo, ADMIN)
    ids = [m.id for m in board.members]
    for attendance, problem in (
        ({ids[0]: "present", ids[1]: "present"}, "missing"),
        ({**dict.fromkeys(ids, "present"), "member-stranger": "present"}, "unknown"),
        ({**dict.fromkeys(ids, "present"), ids[2]: "asleep"}, "invalid_status"),
    ):
        with pytest.raises(RuleViolation) as err:
            handlers.hold_meeting(HoldMeeting(meeting.id, attendance), repo, ADMIN)
        assert problem in err.value.errors["attendance"]
    assert repo.get(Meeting, meeting.id).status == "scheduled"


def test_a_meeting_without_members_or_in_the_future_cannot_be_held(repo: FakeRepository) -> None:
    empty = establish(repo)
    meeting = handlers.schedule_meeting(ScheduleMeeting(empty.id, MEETING_DAY, ["วาระ"]), repo, ADMIN)
    with pytest.raises(RuleViolation, match="no members"):
        handlers.hold_meeting(HoldMeeting(meeting.id, {}), repo, ADMIN)
    board = seated(repo, 1, school_code="13010002")
    later = handlers.schedule_meeting(ScheduleMeeting(board.id, date(2026, 12, 1), ["วาระ"]), repo, ADMIN)
    with pytest.raises(RuleViolation, match="today"):
        handlers.hold_meeting(HoldMeeting(later.id, {board.members[0].id: "present"}), repo, ADMIN)


def test_meeting_transitions_and_minutes(repo: FakeRepository) -> None:
    board = seated(repo, 3)
    scheduled = handlers.schedule_meeting(ScheduleMeeting(board.id, MEETING_DAY, ["วาระ"]), repo, ADMIN)
    with pytest.raises(InvalidTransition):
        handlers.record_minutes(RecordMinutes(scheduled.id, "บันทึก"), repo, ADMIN)
    cancelled = handlers.cancel_meeting(CancelMeeting(scheduled.id, "น้ำท่วม"), repo, ADMIN)
    assert (cancelled.status, cancelled.cancel_reason, cancelled.version) == ("cancelled", "น้ำท่วม", 2)
    with pytest.raises(InvalidTransition):
        handlers.hold_meeting(HoldMeeting(scheduled.id, {}), repo, ADMIN)
    meeting = held(repo, board, 3)
    with pytest.raises(InvalidTransition):
        handlers.cancel_meeting(CancelMeeting(meeting.id), repo, ADMIN)
    minuted = handlers.record_minutes(RecordMinutes(meeting.id, "บันทึกการประชุม"), repo, ADMIN)
    assert (minuted.minutes, minuted.minutes_recorded_date, minuted.version) == ("บันทึกการประชุม", TODAY, 3)
    assert repo.payloads("committee.MinutesRecorded")[0]["recorded_date"] == TODAY.isoformat()


def test_holding_with_minutes_records_them_too(repo: FakeRepository) -> None:
    board = seated(repo, 1)
    meeting = handlers.schedule_meeting(ScheduleMeeting(board.id, MEETING_DAY, ["วาระ"]), repo, ADMIN)
    done = handlers.hold_meeting(
        HoldMeeting(meeting.id, {board.members[0].id: "present"}, "สรุป"), repo, ADMIN
    )
    assert done.minutes == "สรุป"
    assert repo.event_types()[-2:] == ["committee.MeetingHeld", "committee.MinutesRecorded"]


# --- resolutions ----------------------------------------------------------------------------------------


def test_a_resolution_needs_a_held_quorate_meeting(repo: FakeRepository) -> None:
    board = seated(repo, 9)
    inquorate = held(repo, board, 3)
    with pytest.raises(Conflict, match="no quorum: 3 of 9 present, 5 needed"):
        resolution_of(repo, inquorate)
    scheduled = handlers.schedule_meeting(ScheduleMeeting(board.id, MEETING_DAY, ["วาระ"]), repo, ADMIN)
    with pytest.raises(Conflict, match="the meeting is scheduled, not held"):
        resolution_of(repo, scheduled)
    quorate = held(repo, board, 5)
    resolution = resolution_of(repo, quorate)
    assert (resolution.period, resolution.adopted_date, resolution.org) == (
        quorate.period,
        MEETING_DAY,
        board.org,
    )
    assert repo.event_types().count("committee.ResolutionAdopted") == 1


def test_votes_cannot_exceed_those_present(repo: FakeRepository) -> None:
    meeting = held(repo, seated(repo, 9), 5)
    votes = {"for": 4, "against": 1, "abstain": 0}
    adopted = handlers.adopt_resolution(AdoptResolution(meeting.id, "มติ", "ข้อความ", votes), repo, ADMIN)
    assert adopted.votes == votes
    with pytest.raises(RuleViolation, match="votes"):
        handlers.adopt_resolution(AdoptResolution(meeting.id, "มติ", "ข้อความ", {"for": 6}), repo, ADMIN)


# --- action items ---------------------------------------------------------------------------------------


def test_action_item_owners(repo: FakeRepository) -> None:
    board = seated(repo, 9)
    resolution = resolution_of(repo, held(repo, board, 6))
    member = board.members[0]
    owned = item_of(repo, resolution, owner_kind="member", owner_id=member.id)
    assert (owned.owner_name, owned.period) == (member.name, resolution.period)
    assert item_of(repo, resolution).owner_org == repo.school("13010001").org
    for owner in ({"owner_id": "13010002"}, {"owner_kind": "member", "owner_id": "member-none"}):
        with pytest.raises(RuleViolation):
            item_of(repo, resolution, **owner)
    handlers.end_term(EndTerm(board.id, member.id, date(2026, 11, 20)), repo, ADMIN)
    with pytest.raises(RuleViolation):  # no longer a current member
        item_of(repo, resolution, owner_kind="member", owner_id=member.id)
    with pytest.raises(RuleViolation, match="due"):
        item_of(repo, resolution, due=date(2026, 11, 1))


def test_a_network_items_school_is_one_of_its_cluster(repo: FakeRepository) -> None:
    resolution = resolution_of(repo, held(repo, seated(repo, 4, "network"), 4))
    assert item_of(repo, resolution, owner_id="13010002").owner_id == "13010002"
    with pytest.raises(RuleViolation):
        item_of(repo, resolution, owner_id="13010003")  # cluster 13P1-C02


def test_overdue_then_complete_was_overdue(repo: FakeRepository) -> None:
    resolution = resolution_of(repo, held(repo, seated(repo, 3), 3))
    late = item_of(repo, resolution, due=date(2026, 11, 20))
    on_time = item_of(repo, resolution, due=date(2026, 12, 20))
    marked = handlers.mark_overdue_action_items(TODAY, repo)
    assert [i.id for i in marked] == [late.id]
    assert handlers.mark_overdue_action_items(TODAY, repo) == []  # announced once
    assert repo.event_types().count("committee.ActionItemOverdue") == 1
    assert repo.audit[-1]["actor"] == handlers.SYSTEM_ACTOR
    done = handlers.complete_action_item(CompleteActionItem(late.id, TODAY), repo, ADMIN)
    assert (done.status, done.was_overdue, done.percent_done) == ("done", True, 100)
    plain = handlers.complete_action_item(CompleteActionItem(on_time.id, TODAY, "เสร็จ"), repo, ADMIN)
    assert (plain.was_overdue, plain.notes[-1].text) == (False, "เสร็จ")
    assert [p["was_overdue"] for p in repo.payloads("committee.ActionItemCompleted")] == [True, False]
    with pytest.raises(InvalidTransition):
        handlers.complete_action_item(CompleteActionItem(late.id, TODAY), repo, ADMIN)
    with pytest.raises(InvalidTransition):
        handlers.note_progress(NoteProgress(late.id, "อีกครั้ง"), repo, ADMIN)


def test_progress_notes(repo: FakeRepository) -> None:
    resolution = resolution_of(repo, held(repo, seated(repo, 3), 3))
    item = item_of(repo, resolution)
    noted = handlers.note_progress(NoteProgress(item.id, "เริ่มแล้ว", 40), repo, ADMIN)
    assert (noted.percent_done, noted.notes[0].by, noted.notes[0].date, noted.version) == (
        40,
        "admin-None",
        TODAY,
        2,
    )
    assert repo.payloads("committee.ActionItemProgressNoted")[0]["percent_done"] == 40
    stored = repo.get(ActionItem, item.id)
    assert stored.notes == noted.notes


def test_every_change_emits_exactly_its_event(repo: FakeRepository) -> None:
    board = seated(repo, 3)
    meeting = held(repo, board, 3)
    resolution = resolution_of(repo, meeting)
    item = item_of(repo, resolution)
    handlers.note_progress(NoteProgress(item.id, "กำลังทำ"), repo, ADMIN)
    handlers.complete_action_item(CompleteActionItem(item.id, TODAY), repo, ADMIN)
    handlers.end_term(EndTerm(board.id, board.members[0].id, TODAY), repo, ADMIN)
    assert repo.event_types() == [
        "committee.CommitteeEstablished",
        *["committee.MemberAppointed"] * 3,
        "committee.MeetingScheduled",
        "committee.MeetingHeld",
        "committee.ResolutionAdopted",
        "committee.ActionItemCreated",
        "committee.ActionItemProgressNoted",
        "committee.ActionItemCompleted",
        "committee.MemberTermEnded",
    ]
    assert len(repo.audit) == repo.saves == len(repo.outbox)
    for event in repo.outbox:
        catalog.check(event)
        assert event["org"]["school_code"] == "13010001"
    versions = [
        (e["aggregate_id"], e["aggregate_version"]) for e in repo.outbox if e["aggregate_id"] == board.id
    ]
    assert [v for _, v in versions] == [1, 2, 3, 4, 5]


# --- authorization --------------------------------------------------------------------------------------


def test_membership_rights(repo: FakeRepository) -> None:
    board = establish(repo)
    appoint(repo, board, "secretary", "school_director", account="sec-a")
    appoint(repo, board, account="parent-a")
    other = establish(repo, school_code="13010002")
    appoint(repo, other, account="member-b")
    secretary = who("committee_secretary", "school", "13010001", sub="sec-a")
    parent = who("committee_member", "school", "13010001", sub="parent-a")
    appoint(repo, board, group="alumni", ctx=secretary)  # the secretary manages their committee
    assert handlers.get(Committee, board.id, repo, parent.principal).id == board.id
    with pytest.raises(Forbidden):  # a member reads but does not manage
        appoint(repo, board, ctx=parent)
    with pytest.raises(NotFound):  # another committee: not even readable
        appoint(repo, other, ctx=secretary)
    with pytest.raises(NotFound):
        handlers.get(Committee, other.id, repo, secretary.principal)
    # the seat needs a token scoped to the committee
    elsewhere = who("committee_secretary", "school", "13010002", sub="sec-a")
    with pytest.raises(NotFound):
        handlers.get(Committee, board.id, repo, elsewhere.principal)


def test_lists_show_only_what_the_caller_may_read(repo: FakeRepository) -> None:
    board = seated(repo, 3)
    appoint(repo, board, account="parent-a")
    other = seated(repo, 3, school_code="13010002")
    network = seated(repo, 3, "network")
    faraway = seated(repo, 3, school_code="50010001")
    page = {"page": 1, "page_size": 50}

    def ids(ctx: handlers.Context, entity: type = Committee, **filters: Any) -> set[str]:
        items, total = handlers.list_of(entity, {**page, **filters}, repo, ctx.principal)
        assert total == len(items)
        return {getattr(i, "committee_id", i.id) for i in items}

    assert ids(who("esa_officer", "esa", "13P1")) == {board.id, other.id, network.id}
    assert ids(who("esa_officer", "esa", "13P1"), kind="network") == {network.id}
    assert ids(who("teacher", "school", "13010001")) == {board.id}
    assert ids(who("cluster_coordinator", "cluster", "13P1-C01")) == {board.id, other.id, network.id}
    assert ids(who("committee_member", "school", "13010001", sub="parent-a")) == {board.id}
    assert ids(who("committee_member", "school", "13010001", sub="nobody")) == set()
    assert ids(who("national_officer", "national", None)) == {board.id, other.id, network.id, faraway.id}
    assert ids(who("esa_officer", "esa", "13P1"), school_code="50010001") == set()
    held(repo, board, 3)
    held(repo, other, 3)
    assert ids(who("committee_member", "school", "13010001", sub="parent-a"), entity=Meeting) == {board.id}
    assert ids(who("school_director", "school", "13010002"), entity=Meeting) == {other.id}
