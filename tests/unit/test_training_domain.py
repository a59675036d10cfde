"""Training rules: programme lifecycle, sessions per mode, waitlist order, attendance counted once per
session, the completion rule, the PD-hours ledger, and the handlers' authorization over an in-memory
repository."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.training import handlers
from services.training.commands import (
    AssessCompletion,
    CancelSession,
    ChangeProgrammeStatus,
    CreateProgramme,
    Enrol,
    RecordAttendance,
    RescheduleSession,
    ScheduleSession,
    Withdraw,
)
from services.training.domain import (
    ENROLLED,
    WAITLISTED,
    WITHDRAWN,
    Attendance,
    InvalidTransition,
    Programme,
    RuleViolation,
    Teacher,
    attendance_share,
)
from shared.auth import Principal
from shared.calendar import Period
from shared.catalog import catalog
from shared.envelope import Org
from shared.errors import Conflict, Forbidden, NotFound
from shared.targets import pd_hours_target
from tests.unit.fakes_training import SCHOOLS, FakeRepository

AREA = Org(None, None, "13P1", "13")
CLUSTER = Org(None, "13P1-C01", "13P1", "13")


def teacher(teacher_id: str = "T13010001-01", school: str = "13010001") -> Teacher:
    return Teacher(teacher_id, school, SCHOOLS[school])


def create_cmd(**changes: Any) -> CreateProgramme:
    fields: dict[str, Any] = {
        "title_th": "การจัดการเรียนรู้เชิงรุก",
        "title_en": "Active learning",
        "competency_area": "active_learning",
        "subject": "science",
        "grade_band": "p4_6",
        "credited_hours": 12.0,
        "start_date": date(2026, 11, 16),
        "host_level": "esa",
        "host_code": "13P1",
        **changes,
    }
    return CreateProgramme(**fields)


def session_cmd(programme: Programme, mode: str = "hybrid", day: date = date(2026, 11, 20), **changes: Any):
    fields: dict[str, Any] = {
        "programme_id": programme.id,
        "mode": mode,
        "session_date": day,
        "start_time": "09:00",
        "end_time": "12:00",
        "venue": "ห้องประชุม สพป.",
        "meeting_link": "https://meet.example.org/abc",
        "capacity_onsite": 2,
        "capacity_online": 50,
        **changes,
    }
    return ScheduleSession(**fields)


def draft(host: Org = AREA, **changes: Any) -> Programme:
    programme, _ = Programme.create(create_cmd(**changes), host, "esa-officer-13P1")
    return programme


def published(sessions: int = 2, **session_changes: Any) -> Programme:
    programme = draft()
    for i in range(sessions):
        programme.schedule_session(session_cmd(programme, day=date(2026, 11, 20 + i), **session_changes))
    programme.publish()
    return programme


def attend(programme: Programme, who: Teacher, session_index: int, mode: str, minutes: int, existing=None):
    session = programme.sessions[session_index]
    cmd = RecordAttendance(programme.id, session.id, who.teacher_id, mode, minutes)
    return programme.record_attendance(cmd, who, existing, "officer")


# --- programme ------------------------------------------------------------------------------------------


def test_a_programme_is_created_as_a_draft_at_its_hosts_path() -> None:
    programme, events = Programme.create(create_cmd(), AREA, "officer")
    assert (programme.status, programme.version, programme.org) == ("draft", 1, AREA)
    assert programme.period == Period(2569, 2)
    assert programme.min_attendance_share == 0.8
    assert [e.event_type for e in events] == ["training.ProgrammeCreated"]
    assert events[0].payload()["period"] == {"academic_year": 2569, "semester": 2}


def test_publish_needs_a_session_then_close_is_final() -> None:
    programme = draft()
    with pytest.raises(RuleViolation):
        programme.publish()
    programme.schedule_session(session_cmd(programme))
    events = programme.publish()
    assert (programme.status, [e.event_type for e in events]) == (
        "published",
        ["training.ProgrammePublished"],
    )
    with pytest.raises(InvalidTransition):
        programme.publish()
    programme.close()
    assert programme.status == "closed"
    with pytest.raises(InvalidTransition):
        programme.close()
    with pytest.raises(InvalidTransition):
        programme.schedule_session(session_cmd(programme))


@pytest.mark.parametrize(
    ("mode", "changes", "missing"),
    [
        ("onsite", {"venue": ""}, "venue"),
        ("onsite", {"capacity_onsite": 0}, "capacity_onsite"),
        ("online", {"meeting_link": ""}, "meeting_link"),
        ("hybrid", {"capacity_online": 0}, "capacity_online"),
    ],
)
def test_a_session_needs_what_its_mode_needs(mode: str, changes: dict, missing: str) -> None:
    programme = draft()
    with pytest.raises(RuleViolation) as err:
        programme.schedule_session(session_cmd(programme, mode, **changes))
    assert missing in err.value.errors


def test_a_session_keeps_only_what_its_mode_uses_and_knows_its_minutes() -> None:
    programme = draft()
    session, events = programme.schedule_session(session_cmd(programme, "online"))
    assert (session.venue, session.capacity_onsite, session.capacity_online) == ("", 0, 50)
    assert session.minutes == 180
    assert events[0].payload()["minutes"] == 180
    with pytest.raises(RuleViolation):
        programme.schedule_session(session_cmd(programme, "online", start_time="12:00", end_time="09:00"))


def test_reschedule_and_cancel_name_the_teachers_to_notify() -> None:
    programme = published()
    programme.enrol(teacher(), "onsite", "t")
    programme.enrol(teacher("T13010001-02"), "online", "t")
    programme.enrol(teacher("T13010001-03"), "online", "t")
    programme.withdraw("T13010001-03")
    session = programme.sessions[0]
    events = programme.reschedule_session(
        RescheduleSession(programme.id, session.id, date(2026, 12, 1), "13:00", "16:00")
    )
    payload = events[0].payload()
    assert payload["teacher_ids"] == ["T13010001-01", "T13010001-02"]
    assert (payload["previous_date"], payload["session_date"]) == (date(2026, 11, 20), date(2026, 12, 1))
    events = programme.cancel_session(session.id, "น้ำท่วม")
    assert events[0].payload()["teacher_ids"] == ["T13010001-01", "T13010001-02"]
    with pytest.raises(InvalidTransition):
        programme.cancel_session(session.id, "again")


# --- roster ---------------------------------------------------------------------------------------------


def test_a_full_mode_waitlists_and_a_freed_seat_goes_to_the_first_waiting_in_order() -> None:
    programme = published()  # 2 onsite seats per session
    first, second = teacher("T13010001-01"), teacher("T13010001-02")
    third, fourth = teacher("T13010001-03"), teacher("T13010002-01", "13010002")
    statuses = [programme.enrol(t, "onsite", "x")[0].status for t in (first, second, third, fourth)]
    assert statuses == [ENROLLED, ENROLLED, WAITLISTED, WAITLISTED]
    assert [e.teacher_id for e in programme.waitlist("onsite")] == [third.teacher_id, fourth.teacher_id]
    # a waitlisted teacher leaving frees no seat
    events = programme.withdraw(fourth.teacher_id)
    assert [e.event_type for e in events] == ["training.EnrolmentWithdrawn"]
    programme.enrol(fourth, "onsite", "x")  # back at the end of the line
    events = programme.withdraw(first.teacher_id)
    assert [e.event_type for e in events] == ["training.EnrolmentWithdrawn", "training.SeatOffered"]
    assert events[1].payload()["teacher_id"] == third.teacher_id
    assert programme.enrolment(third.teacher_id).status == ENROLLED
    assert [e.teacher_id for e in programme.waitlist("onsite")] == [fourth.teacher_id]
    assert programme.taken("onsite") == 2


def test_seats_of_a_mode_are_the_smallest_capacity_of_the_sessions_offering_it() -> None:
    programme = draft()
    programme.schedule_session(session_cmd(programme, "onsite", capacity_onsite=30))
    programme.schedule_session(session_cmd(programme, "hybrid", capacity_onsite=20, capacity_online=80))
    assert (programme.seats("onsite"), programme.seats("online")) == (20, 80)
    only_onsite = draft()
    only_onsite.schedule_session(session_cmd(only_onsite, "onsite"))
    only_onsite.publish()
    with pytest.raises(RuleViolation):
        only_onsite.enrol(teacher(), "online", "x")


def test_enrolment_rules() -> None:
    with pytest.raises(InvalidTransition):
        draft().enrol(teacher(), "onsite", "x")  # not published yet
    programme = published()
    programme.enrol(teacher(), "online", "x")
    with pytest.raises(Conflict):
        programme.enrol(teacher(), "onsite", "x")  # once per programme
    with pytest.raises(RuleViolation):
        programme.enrol(teacher("T50010001-01", "50010001"), "online", "x")  # another area's teacher
    cluster_programme = draft(CLUSTER, host_level="cluster", host_code="13P1-C01")
    cluster_programme.schedule_session(session_cmd(cluster_programme))
    cluster_programme.publish()
    with pytest.raises(RuleViolation):
        cluster_programme.enrol(teacher("T13010003-01", "13010003"), "online", "x")  # another cluster
    with pytest.raises(RuleViolation):
        programme.withdraw("T13010002-01")  # not on the roster


# --- attendance and completion --------------------------------------------------------------------------


def test_online_and_onsite_in_the_same_session_count_once() -> None:
    programme = published()
    me = teacher()
    programme.enrol(me, "onsite", "x")
    attendance, events = attend(programme, me, 0, "onsite", 120)
    assert (attendance.version, attendance.credited_minutes) == (1, 120)
    attendance, events = attend(programme, me, 0, "online", 90, existing=attendance)
    assert (attendance.version, attendance.minutes_by_mode) == (2, {"onsite": 120, "online": 90})
    assert attendance.credited_minutes == 120  # the larger, not 210
    assert (events[0].payload()["minutes"], events[0].payload()["credited_minutes"]) == (90, 120)
    share = attendance_share(programme.scheduled_sessions(), [attendance])
    assert share == pytest.approx(120 / 360)


def test_attendance_rules() -> None:
    programme = published(sessions=1, mode="onsite")
    me = teacher()
    with pytest.raises(RuleViolation):
        attend(programme, me, 0, "onsite", 60)  # not enrolled
    programme.enrol(me, "onsite", "x")
    with pytest.raises(RuleViolation):
        attend(programme, me, 0, "online", 60)  # an onsite session
    with pytest.raises(RuleViolation):
        attend(programme, me, 0, "onsite", 181)  # longer than the session
    programme.cancel_session(programme.sessions[0].id, "")
    with pytest.raises(InvalidTransition):
        attend(programme, me, 0, "onsite", 60)


def test_the_completion_rule_needs_the_attendance_share() -> None:
    programme = published()  # two sessions of 180 minutes
    me = teacher()
    programme.enrol(me, "online", "x")
    first, _ = attend(programme, me, 0, "online", 180)
    second, _ = attend(programme, me, 1, "online", 100)  # 280 / 360 = 0.78 < 0.8
    with pytest.raises(RuleViolation) as err:
        programme.assess_completion(me, [first, second], None, "officer")
    assert "attendance_share" in err.value.errors
    second, _ = attend(programme, me, 1, "onsite", 110, existing=second)  # 290 / 360 = 0.81
    completion, events = programme.assess_completion(me, [first, second], None, "officer")
    assert (completion.hours_credited, completion.attendance_share) == (12.0, round(290 / 360, 4))
    assert completion.period == Period(2569, 2)
    assert completion.org == SCHOOLS["13010001"]
    assert [e.event_type for e in events] == ["training.CompletionAchieved"]


def test_the_completion_rule_can_ask_for_an_assessment_score_and_ignores_cancelled_sessions() -> None:
    programme = draft(min_assessment_score=70.0, min_attendance_share=1.0)
    for day in (20, 21):
        programme.schedule_session(session_cmd(programme, day=date(2026, 11, day)))
    programme.publish()
    me = teacher()
    programme.enrol(me, "onsite", "x")
    attended, _ = attend(programme, me, 0, "onsite", 180)
    programme.cancel_session(programme.sessions[1].id, "")  # the missed session no longer counts
    with pytest.raises(RuleViolation) as err:
        programme.assess_completion(me, [attended], None, "officer")
    assert list(err.value.errors) == ["assessment_score"]
    with pytest.raises(RuleViolation):
        programme.assess_completion(me, [attended], 69.5, "officer")
    completion, _ = programme.assess_completion(me, [attended], 70.0, "officer")
    assert completion.assessment_score == 70.0


def test_the_pd_hours_target_is_data() -> None:
    assert pd_hours_target(2569) == 20.0


# --- handlers -------------------------------------------------------------------------------------------


def principal(role: str = "esa_officer", level: str = "esa", code: str | None = "13P1", sub: str = "") -> Any:
    return handlers.Context(Principal(sub or f"{role}-{code}", "n", role, level, code))


OFFICER = principal()


def running_programme(repo: FakeRepository, ctx: Any = OFFICER, **changes: Any) -> Programme:
    programme = handlers.create_programme(create_cmd(**changes), repo, ctx)
    for day in (20, 21):
        handlers.schedule_session(session_cmd(programme, day=date(2026, 11, day)), repo, ctx)
    return handlers.publish_programme(ChangeProgrammeStatus(programme.id), repo, ctx)


def test_handlers_save_every_change_with_valid_events_and_audit() -> None:
    repo = FakeRepository()
    programme = running_programme(repo)
    assert programme.version == 4
    assert repo.event_types() == [
        "training.ProgrammeCreated",
        "training.SessionScheduled",
        "training.SessionScheduled",
        "training.ProgrammePublished",
    ]
    for event in repo.outbox:
        catalog.check(event)
        assert event["org"] == AREA.as_dict()
        assert event["producer"] == "training"
    assert [a["action"] for a in repo.audit] == [
        "programme.create",
        "session.schedule",
        "session.schedule",
        "programme.publish",
    ]


def test_only_the_hosts_managers_manage_a_programme() -> None:
    repo = FakeRepository()
    with pytest.raises(Forbidden):
        handlers.create_programme(create_cmd(), repo, principal(code="50P1"))
    with pytest.raises(Forbidden):
        handlers.create_programme(create_cmd(), repo, principal("teacher", "school", "13010001"))
    coordinator = principal("cluster_coordinator", "cluster", "13P1-C01")
    with pytest.raises(Forbidden):  # an area programme is not the cluster's
        handlers.create_programme(create_cmd(), repo, coordinator)
    programme = running_programme(repo, coordinator, host_level="cluster", host_code="13P1-C01")
    assert programme.org == CLUSTER
    handlers.close_programme(ChangeProgrammeStatus(programme.id), repo, OFFICER)  # the area's staff may too
    with pytest.raises(Forbidden):
        handlers.close_programme(ChangeProgrammeStatus(programme.id), repo, principal(code="13P2"))


def test_teachers_enrol_themselves_and_directors_their_own_teachers() -> None:
    repo = FakeRepository()
    programme = running_programme(repo)
    saves = repo.saves
    me = principal("teacher", "school", "13010001", sub="T13010001-01")
    with pytest.raises(Forbidden):  # another school's teacher
        handlers.enrol(Enrol(programme.id, "T13010002-01", "online"), repo, me)
    with pytest.raises(Forbidden):  # a colleague of the same school
        handlers.enrol(Enrol(programme.id, "T13010001-02", "online"), repo, me)
    director = principal("school_director", "school", "13010002")
    with pytest.raises(Forbidden):
        handlers.enrol(Enrol(programme.id, "T13010001-02", "online"), repo, director)
    assert repo.saves == saves
    _, mine = handlers.enrol(Enrol(programme.id, "T13010001-01", "online"), repo, me)
    _, theirs = handlers.enrol(Enrol(programme.id, "T13010002-01", "onsite"), repo, director)
    assert (mine.enrolled_by, theirs.enrolled_by) == ("T13010001-01", "school_director-13010002")
    _, roster, total = handlers.roster(programme.id, {}, repo, me.principal)
    assert ([e.teacher_id for e in roster], total) == (["T13010001-01"], 1)
    _, roster, total = handlers.roster(programme.id, {}, repo, OFFICER.principal)
    assert total == 2
    with pytest.raises(NotFound):  # another area's programme is not even visible
        handlers.enrol(
            Enrol(programme.id, "T50010001-01", "online"),
            repo,
            principal("teacher", "school", "50010001", sub="T50010001-01"),
        )
    handlers.withdraw(Withdraw(programme.id, "T13010001-01"), repo, me)
    assert repo.event_types()[-1] == "training.EnrolmentWithdrawn"


def test_a_lost_roster_race_is_retried_but_a_stale_if_match_is_409() -> None:
    repo = FakeRepository()
    programme = running_programme(repo)
    real_save, raced = repo.save, []

    def save_losing_once(entity: Any, events: Any, audit: Any) -> None:
        if not raced:
            raced.append(True)
            raise Conflict("someone else enrolled meanwhile")
        real_save(entity, events, audit)

    repo.save = save_losing_once  # type: ignore[method-assign]
    _, enrolment = handlers.enrol(Enrol(programme.id, "T13010001-01", "online"), repo, OFFICER)
    assert enrolment.status == ENROLLED
    with pytest.raises(Conflict):
        handlers.enrol(Enrol(programme.id, "T13010001-02", "online", expected_version=1), repo, OFFICER)


def test_pd_hours_are_credited_once_and_shown_per_year_against_the_target() -> None:
    repo = FakeRepository()
    programme = running_programme(repo)
    handlers.enrol(Enrol(programme.id, "T13010001-01", "onsite"), repo, OFFICER)
    for session in programme.sessions:
        cmd = RecordAttendance(programme.id, session.id, "T13010001-01", "onsite", 180)
        handlers.record_attendance(cmd, repo, OFFICER)
    again = RecordAttendance(programme.id, programme.sessions[0].id, "T13010001-01", "online", 180)
    assert handlers.record_attendance(again, repo, OFFICER).credited_minutes == 180
    completion = handlers.assess_completion(AssessCompletion(programme.id, "T13010001-01"), repo, OFFICER)
    assert completion.hours_credited == 12.0
    with pytest.raises(Conflict):
        handlers.assess_completion(AssessCompletion(programme.id, "T13010001-01"), repo, OFFICER)
    assert repo.event_types().count("training.CompletionAchieved") == 1

    me = Principal("T13010001-01", "n", "teacher", "school", "13010001")
    hours = handlers.pd_hours("T13010001-01", None, repo, me)
    year = hours["years"][0]
    assert (year["academic_year"], year["hours"], year["target_hours"], year["met"]) == (
        2569,
        12.0,
        20.0,
        False,
    )
    assert year["remaining_hours"] == 8.0
    assert handlers.pd_hours("T13010001-01", 2570, repo, me)["years"][0]["hours"] == 0
    colleague = Principal("T13010001-02", "n", "teacher", "school", "13010001")
    with pytest.raises(NotFound):
        handlers.pd_hours("T13010001-01", None, repo, colleague)
    director = Principal("d", "n", "school_director", "school", "13010001")
    assert handlers.pd_hours("T13010001-01", None, repo, director)["years"][0]["hours"] == 12.0
    with pytest.raises(NotFound):
        handlers.pd_hours(
            "T13010001-01", None, repo, Principal("d", "n", "school_director", "school", "13010002")
        )


def test_the_ledger_refuses_a_second_credit_even_when_the_check_is_raced() -> None:
    repo = FakeRepository()
    programme = running_programme(repo)
    handlers.enrol(Enrol(programme.id, "T13010001-01", "onsite"), repo, OFFICER)
    for session in programme.sessions:
        handlers.record_attendance(
            RecordAttendance(programme.id, session.id, "T13010001-01", "onsite", 180), repo, OFFICER
        )
    programme = repo.get(Programme, programme.id)
    me = teacher()
    attendance = repo.attendance_of(programme.id, me.teacher_id)
    first, events = programme.assess_completion(me, attendance, None, "a")
    second, _ = programme.assess_completion(me, attendance, None, "b")
    handlers.PRODUCER.save(repo, first, events, handlers.system_audit("completion.assess", first.id))
    with pytest.raises(Conflict):
        handlers.PRODUCER.save(repo, second, events, handlers.system_audit("completion.assess", second.id))
    assert repo.event_types().count("training.CompletionAchieved") == 1


def test_reads_outside_scope_are_404_and_teachers_list_only_their_own() -> None:
    repo = FakeRepository()
    programme = running_programme(repo)
    for tid in ("T13010001-01", "T13010001-02"):
        handlers.enrol(Enrol(programme.id, tid, "onsite"), repo, OFFICER)
        handlers.record_attendance(
            RecordAttendance(programme.id, programme.sessions[0].id, tid, "onsite", 60), repo, OFFICER
        )
    other_area = Principal("o", "n", "esa_officer", "esa", "50P1")
    with pytest.raises(NotFound):
        handlers.get(Programme, programme.id, repo, other_area)
    me = Principal("T13010001-01", "n", "teacher", "school", "13010001")
    assert handlers.get(Programme, programme.id, repo, me).id == programme.id
    items, total = handlers.list_of(Attendance, {}, repo, me)
    assert (total, [a.teacher_id for a in items]) == (1, ["T13010001-01"])
    assert handlers.list_of(Attendance, {"teacher_id": "T13010001-02"}, repo, me)[1] == 0
    colleagues = handlers.list_of(Attendance, {}, repo, OFFICER.principal)[0]
    with pytest.raises(NotFound):
        handlers.get(Attendance, next(a.id for a in colleagues if a.teacher_id != me.sub), repo, me)
    assert handlers.list_of(Programme, {}, repo, me)[1] == 1
    assert handlers.list_of(Programme, {}, repo, Principal("t", "n", "teacher", "school", "50010001"))[1] == 0


def test_a_school_does_not_see_draft_programmes() -> None:
    repo = FakeRepository()
    programme = handlers.create_programme(create_cmd(), repo, OFFICER)
    me = Principal("T13010001-01", "n", "teacher", "school", "13010001")
    with pytest.raises(NotFound):
        handlers.get(Programme, programme.id, repo, me)
    assert handlers.list_of(Programme, {}, repo, me)[1] == 0
    assert handlers.list_of(Programme, {"status": "draft"}, repo, OFFICER.principal)[1] == 1
    assert handlers.list_of(Programme, {"school_code": "13010001"}, repo, OFFICER.principal)[1] == 1
    assert handlers.list_of(Programme, {"school_code": "50010001"}, repo, OFFICER.principal)[1] == 0


def test_withdrawn_teachers_can_enrol_again() -> None:
    programme = published()
    programme.enrol(teacher(), "onsite", "x")
    programme.withdraw(teacher().teacher_id)
    enrolment, _ = programme.enrol(teacher(), "onsite", "x")
    assert enrolment.status == ENROLLED
    assert [e.status for e in programme.enrolments] == [WITHDRAWN, ENROLLED]


def test_cancelling_a_session_through_the_handler_checks_the_version_and_names_the_enrolled() -> None:
    repo = FakeRepository()
    programme = running_programme(repo)
    handlers.enrol(Enrol(programme.id, "T13010001-01", "online"), repo, OFFICER)
    session_id = programme.sessions[0].id
    with pytest.raises(Conflict):
        handlers.cancel_session(
            CancelSession(programme.id, session_id, "", expected_version=4), repo, OFFICER
        )
    cancelled = handlers.cancel_session(CancelSession(programme.id, session_id, "ฝนตก", 5), repo, OFFICER)
    assert cancelled.session(session_id).status == "cancelled"
    event = repo.outbox[-1]
    assert event["event_type"] == "training.SessionCancelled"
    assert event["payload"]["teacher_ids"] == ["T13010001-01"]
    assert event["payload"]["session_date"] == "2026-11-20"


def test_every_domain_event_carries_exactly_its_catalog_contracts_fields() -> None:
    import shared.catalog.training as contracts
    from services.training import events

    kinds = [k for k in vars(events).values() if isinstance(k, type) and k is not events.Event]
    kinds = [k for k in kinds if issubclass(k, events.Event)]
    assert {f"training.{k.__name__}" for k in kinds} == {
        t for t, _ in catalog.event_types() if t.startswith("training.")
    }
    for kind in kinds:
        schema = getattr(contracts, kind.__name__)()
        assert set(kind.__dataclass_fields__) == set(schema.fields), kind
        assert schema.fields["period"].required, kind


def test_a_payload_breaking_its_contract_is_refused_before_the_outbox() -> None:
    from shared.catalog import InvalidEvent

    repo = FakeRepository()
    programme = running_programme(repo)
    event = dict(repo.outbox[-1], payload={"programme_id": programme.id})  # no period
    with pytest.raises(InvalidEvent):
        catalog.check(event)
