"""Supervision rules: state transitions, rubric, follow-up deadlines, period stamping, and the handlers
(authorize, decide, save with events and audit) over an in-memory repository."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Any

import pytest

from services.supervision import handlers
from services.supervision.commands import (
    CancelVisit,
    CompleteFollowUp,
    CompleteVisit,
    CreatePlan,
    OpenFollowUp,
    RecordCoaching,
    RecordFinding,
    RecordPlc,
    ScheduleVisit,
)
from services.supervision.domain import (
    RUBRIC_CODES,
    RUBRIC_DOMAINS,
    Finding,
    FollowUp,
    InvalidTransition,
    RuleViolation,
    School,
    Teacher,
    Visit,
    check_rubric,
)
from shared.auth import ROLES, Principal
from shared.calendar import Period
from shared.catalog import catalog
from shared.envelope import Org
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from tests.unit.fakes_supervision import SCHOOLS, FakeRepository

SCHOOL = School("13010001", SCHOOLS["13010001"])
TEACHERS = {
    "T13010001-01": Teacher("T13010001-01", "13010001"),
    "T13010002-01": Teacher("T13010002-01", "13010002"),
}
SCORES = {"assessment": 2, "learning_design": 3}


def scheduled(day: date = date(2026, 10, 5), mode: str = "onsite") -> Visit:
    visit, _ = Visit.schedule(ScheduleVisit("13010001", day, mode), SCHOOL, "sup-13P1")
    return visit


def complete_cmd(visit: Visit, day: date = date(2026, 11, 20), **changes: Any) -> CompleteVisit:
    fields = {"rubric_scores": SCORES, "teachers_observed": ["T13010001-01"], **changes}
    return CompleteVisit(visit_id=visit.id, visit_date=day, **fields)


def completed(day: date = date(2026, 11, 20)) -> Visit:
    visit = scheduled()
    visit.complete(complete_cmd(visit, day), TEACHERS)
    return visit


def finding_of(visit: Visit) -> Finding:
    finding, _ = visit.record_finding(RecordFinding(visit.id, "assessment", "ไม่มีเกณฑ์", "ใช้รูบริก"), "sup")
    return finding


def follow_up(due: date = date(2026, 12, 15)) -> FollowUp:
    item, _ = finding_of(completed()).open_follow_up(OpenFollowUp("f", "ครูมาลี", "ทำเกณฑ์", due))
    return item


# --- rubric ---------------------------------------------------------------------------------------------


def test_rubric_domains_carry_thai_and_english_names() -> None:
    names = {d.code: (d.name_th, d.name_en) for d in RUBRIC_DOMAINS}
    assert names["learning_design"] == ("การออกแบบการเรียนรู้", "Learning design")
    assert names["teaching_methods"][0] == "กระบวนการจัดการเรียนรู้"
    assert names["classroom_management"][0] == "การบริหารจัดการชั้นเรียน"
    assert names["assessment"][0] == "การวัดและประเมินผล"
    assert names["learning_media"][0] == "สื่อและแหล่งเรียนรู้"


@pytest.mark.parametrize(
    "scores",
    [{}, {"assessment": 0}, {"assessment": 5}, {"singing": 3}, {"assessment": 3, "learning_design": -1}],
)
def test_rubric_rejects_empty_unknown_or_out_of_range_scores(scores: dict[str, int]) -> None:
    with pytest.raises(RuleViolation) as caught:
        check_rubric(scores)
    assert caught.value.status == 422


def test_rubric_keeps_its_own_domain_order() -> None:
    assert list(check_rubric({"learning_media": 4, "learning_design": 1})) == [
        "learning_design",
        "learning_media",
    ]
    assert set(check_rubric(dict.fromkeys(RUBRIC_CODES, 4))) == set(RUBRIC_CODES)


# --- visits ---------------------------------------------------------------------------------------------


def test_scheduling_stamps_the_school_org_and_the_period_of_the_planned_day() -> None:
    visit, events = Visit.schedule(ScheduleVisit("13010001", date(2026, 10, 5), "online"), SCHOOL, "sup")
    assert (visit.status, visit.version, visit.org) == ("scheduled", 1, SCHOOLS["13010001"])
    assert visit.period == Period(2569, 1)
    assert [e.event_type for e in events] == ["supervision.VisitScheduled"]
    assert events[0].payload()["period"] == {"academic_year": 2569, "semester": 1}


def test_completing_records_scores_teachers_and_the_period_of_the_visit_day() -> None:
    visit = scheduled(date(2026, 10, 5))  # planned in semester 1 ...
    events = visit.complete(complete_cmd(visit, date(2026, 11, 20), mode="online"), TEACHERS)
    assert visit.period == Period(2569, 2)  # ... it happened in semester 2: the activity's day decides
    assert (visit.status, visit.version, visit.mode) == ("completed", 2, "online")
    payload = events[0].payload()
    assert events[0].event_type == "supervision.VisitCompleted"
    assert payload["rubric_scores"] == {"learning_design": 3, "assessment": 2}
    assert payload["teachers_observed"] == ["T13010001-01"]
    assert payload["period"] == {"academic_year": 2569, "semester": 2}
    assert payload["visit_date"] == date(2026, 11, 20)


@pytest.mark.parametrize("first", ["complete", "cancel"])
@pytest.mark.parametrize("second", ["complete", "cancel"])
def test_a_visit_leaves_scheduled_only_once(first: str, second: str) -> None:
    visit = scheduled()
    act = {
        "complete": lambda: visit.complete(complete_cmd(visit), TEACHERS),
        "cancel": lambda: visit.cancel(""),
    }
    act[first]()
    version = visit.version
    with pytest.raises(InvalidTransition) as caught:
        act[second]()
    assert caught.value.status == 409
    assert visit.version == version


@pytest.mark.parametrize(
    "teachers",
    [[], ["T13010002-01"], ["T-UNKNOWN"], ["T13010001-01", "T13010002-01"]],
)
def test_observed_teachers_must_be_known_teachers_of_the_visited_school(teachers: list[str]) -> None:
    visit = scheduled()
    with pytest.raises(RuleViolation):
        visit.complete(complete_cmd(visit, teachers_observed=teachers), TEACHERS)
    assert (visit.status, visit.version) == ("scheduled", 1)


def test_observed_teachers_are_counted_once() -> None:
    visit = scheduled()
    visit.complete(complete_cmd(visit, teachers_observed=["T13010001-01"] * 3), TEACHERS)
    assert visit.teachers_observed == ["T13010001-01"]


def test_cancelling_keeps_the_planned_period() -> None:
    visit = scheduled(date(2026, 10, 5))
    events = visit.cancel("น้ำท่วม")
    assert (visit.status, visit.cancel_reason, visit.version) == ("cancelled", "น้ำท่วม", 2)
    assert events[0].payload()["period"] == {"academic_year": 2569, "semester": 1}


# --- findings and follow-ups ----------------------------------------------------------------------------


def test_findings_come_only_from_completed_visits() -> None:
    with pytest.raises(InvalidTransition):
        finding_of(scheduled())
    cancelled = scheduled()
    cancelled.cancel("")
    with pytest.raises(InvalidTransition):
        finding_of(cancelled)


def test_a_finding_belongs_to_a_rubric_domain_and_the_visit_period() -> None:
    visit = completed(date(2026, 11, 20))
    finding, events = visit.record_finding(RecordFinding(visit.id, "assessment", "x", "y"), "sup")
    assert (finding.org, finding.period, finding.visit_date) == (visit.org, Period(2569, 2), visit.visit_date)
    assert events[0].payload()["domain"] == "assessment"
    with pytest.raises(RuleViolation):
        visit.record_finding(RecordFinding(visit.id, "cooking", "x", "y"), "sup")


def test_a_follow_up_is_due_after_its_visit() -> None:
    finding = finding_of(completed(date(2026, 11, 20)))
    with pytest.raises(RuleViolation):
        finding.open_follow_up(OpenFollowUp(finding.id, "owner", "act", date(2026, 11, 19)))


def test_a_follow_up_becomes_overdue_only_after_its_due_day() -> None:
    item = follow_up(due=date(2026, 12, 15))
    assert not item.is_past_due(date(2026, 12, 15))
    with pytest.raises(InvalidTransition):
        item.mark_overdue(date(2026, 12, 15))
    events = item.mark_overdue(date(2026, 12, 16))
    assert (item.status, item.version) == ("overdue", 2)
    assert [e.event_type for e in events] == ["supervision.FollowUpOverdue"]
    with pytest.raises(InvalidTransition):
        item.mark_overdue(date(2026, 12, 17))  # announced once


def test_completing_an_overdue_follow_up_says_it_was_overdue() -> None:
    item = follow_up(due=date(2026, 12, 15))
    item.mark_overdue(date(2026, 12, 16))
    events = item.complete(date(2026, 12, 20), "ทำแล้ว")
    assert (item.status, item.was_overdue, item.version) == ("completed", True, 3)
    assert events[0].payload()["was_overdue"] is True


def test_a_follow_up_completed_on_time_was_not_overdue_and_completes_once() -> None:
    item = follow_up()
    events = item.complete(date(2026, 12, 1))
    assert events[0].payload()["was_overdue"] is False
    with pytest.raises(InvalidTransition):
        item.complete(date(2026, 12, 2))
    with pytest.raises(InvalidTransition):
        item.mark_overdue(date(2027, 1, 1))


def test_a_follow_up_counts_in_its_findings_semester_throughout() -> None:
    item = follow_up(due=date(2027, 6, 1))  # visit in semester 2/2569, due in semester 1/2570
    overdue = item.mark_overdue(date(2027, 6, 2))
    done = item.complete(date(2027, 6, 3))
    assert item.period == Period(2569, 2)
    assert overdue[0].payload()["period"] == done[0].payload()["period"] == Period(2569, 2).as_dict()


# --- handlers over the fake repository ------------------------------------------------------------------


def who(role: str = "supervisor", level: str = "esa", code: str | None = "13P1") -> handlers.Context:
    return handlers.Context(Principal(f"{role}-{code}", role, role, level, code))


@pytest.fixture
def repo() -> FakeRepository:
    return FakeRepository()


def schedule(repo: FakeRepository, school: str = "13010001", ctx: handlers.Context | None = None) -> Visit:
    cmd = ScheduleVisit(school, date(2026, 11, 20), "onsite")
    return handlers.schedule_visit(cmd, repo, ctx or who())


def complete(repo: FakeRepository, visit: Visit, **changes: Any) -> Visit:
    return handlers.complete_visit(complete_cmd(visit, **changes), repo, who())


def test_schedule_saves_the_visit_its_event_and_an_audit_entry(repo: FakeRepository) -> None:
    visit = schedule(repo)
    event = repo.outbox[0]
    assert repo.event_types() == ["supervision.VisitScheduled"]
    assert (event["producer"], event["event_version"], event["aggregate_id"]) == ("supervision", 1, visit.id)
    assert event["org"] == SCHOOLS["13010001"].as_dict()
    assert event["payload"]["scheduled_date"] == "2026-11-20"  # JSON-native, ready for the outbox
    assert event["payload"]["supervisor_id"] == "supervisor-13P1"
    assert [(a["action"], a["target"], a["before"]) for a in repo.audit] == [
        ("visit.schedule", visit.id, None)
    ]
    assert repo.get(Visit, visit.id) == visit


@pytest.mark.parametrize(
    ("ctx", "error"),
    [
        (who(code="50P1"), Forbidden),  # another area's supervisor
        (who("teacher", "school", "13010001"), Forbidden),  # school staff do not schedule
        (who("province_officer", "province", "13"), Forbidden),  # province officers only read
        (who("cluster_coordinator", "cluster", "13P1-C01"), Forbidden),
    ],
)
def test_schedule_outside_role_or_scope_stores_nothing(
    repo: FakeRepository, ctx: handlers.Context, error: type[Exception]
) -> None:
    with pytest.raises(error):
        schedule(repo, ctx=ctx)
    assert (repo.saves, repo.outbox, repo.audit) == (0, [], [])


def test_schedule_at_an_unknown_school_is_invalid(repo: FakeRepository) -> None:
    with pytest.raises(Invalid):
        schedule(repo, school="99999999")
    assert repo.saves == 0


def test_admin_and_esa_officer_may_schedule(repo: FakeRepository) -> None:
    schedule(repo, ctx=who("admin", "national", None))
    schedule(repo, ctx=who("esa_officer"))
    assert repo.saves == 2


def test_complete_saves_the_new_version_with_its_event_and_before_after(repo: FakeRepository) -> None:
    visit = complete(repo, schedule(repo))
    event = repo.outbox[-1]
    assert (event["event_type"], event["aggregate_version"]) == ("supervision.VisitCompleted", 2)
    assert event["payload"]["period"] == {"academic_year": 2569, "semester": 2}
    audit = repo.audit[-1]
    assert (audit["before"]["status"], audit["after"]["status"], audit["after"]["version"]) == (
        "scheduled",
        "completed",
        2,
    )
    assert repo.get(Visit, visit.id).status == "completed"


def test_complete_with_a_stale_expected_version_conflicts(repo: FakeRepository) -> None:
    visit = schedule(repo)
    with pytest.raises(Conflict):
        complete(repo, visit, expected_version=7)
    assert repo.get(Visit, visit.id).status == "scheduled"
    complete(repo, visit, expected_version=1)


def test_two_writers_of_one_version_conflict(repo: FakeRepository) -> None:
    visit = schedule(repo)
    mine, theirs = repo.get(Visit, visit.id), repo.get(Visit, visit.id)
    theirs.cancel("")
    repo.save(theirs, [], [])
    mine.complete(complete_cmd(mine), TEACHERS)
    with pytest.raises(Conflict):
        repo.save(mine, [], [])


def test_complete_checks_teachers_against_the_local_directory(repo: FakeRepository) -> None:
    visit = schedule(repo)
    with pytest.raises(Invalid):
        complete(repo, visit, teachers_observed=["T13010002-01"])
    with pytest.raises(Invalid):
        complete(repo, visit, teachers_observed=["nobody"])
    assert repo.saves == 1


def test_completed_visit_finding_follow_up_chain(repo: FakeRepository) -> None:
    visit = complete(repo, schedule(repo))
    finding = handlers.record_finding(RecordFinding(visit.id, "assessment", "f", "r"), repo, who())
    item = handlers.open_follow_up(OpenFollowUp(finding.id, "ผอ.", "plan", date(2026, 12, 1)), repo, who())
    director = who("school_director", "school", "13010001")
    done = handlers.complete_follow_up(CompleteFollowUp(item.id, date(2026, 11, 30)), repo, director)
    assert done.status == "completed"
    assert repo.event_types()[-3:] == [
        "supervision.FindingRecorded",
        "supervision.FollowUpOpened",
        "supervision.FollowUpCompleted",
    ]
    assert {e["org"]["school_code"] for e in repo.outbox} == {"13010001"}


def test_a_director_completes_only_their_own_schools_follow_ups(repo: FakeRepository) -> None:
    visit = complete(repo, schedule(repo))
    finding = handlers.record_finding(RecordFinding(visit.id, "assessment", "f", "r"), repo, who())
    item = handlers.open_follow_up(OpenFollowUp(finding.id, "ผอ.", "plan", date(2026, 12, 1)), repo, who())
    saves = repo.saves
    for ctx in (who("school_director", "school", "13010002"), who("teacher", "school", "13010001")):
        with pytest.raises(Forbidden):
            handlers.complete_follow_up(CompleteFollowUp(item.id, date(2026, 11, 30)), repo, ctx)
    assert repo.saves == saves


def test_plan_belongs_to_the_area_of_its_schools(repo: FakeRepository) -> None:
    cmd = CreatePlan("แผนนิเทศ 2/2569", 2569, 2, ["13010001", "13010003", "13010001"], ["การอ่าน"])
    plan = handlers.create_plan(cmd, repo, who())
    assert plan.org == Org(None, None, "13P1", "13")
    assert plan.target_school_codes == ["13010001", "13010003"]
    assert repo.outbox[0]["payload"]["period"] == {"academic_year": 2569, "semester": 2}
    with pytest.raises(Invalid):
        handlers.create_plan(CreatePlan("x", 2569, 2, ["13010001", "13020001"], ["a"]), repo, who())
    with pytest.raises(Forbidden):
        handlers.create_plan(CreatePlan("x", 2569, 2, ["50010001"], ["a"]), repo, who())
    with pytest.raises(Invalid):
        handlers.create_plan(CreatePlan("x", 2569, 2, ["13010001", "00000000"], ["a"]), repo, who())


def test_visit_under_a_plan_of_another_area_is_invalid(repo: FakeRepository) -> None:
    admin = who("admin", "national", None)
    plan = handlers.create_plan(CreatePlan("x", 2569, 2, ["50010001"], ["a"]), repo, admin)
    with pytest.raises(Invalid):
        handlers.schedule_visit(ScheduleVisit("13010001", date(2026, 11, 2), "onsite", plan.id), repo, admin)
    with pytest.raises(Invalid):
        handlers.schedule_visit(ScheduleVisit("13010001", date(2026, 11, 2), "onsite", "plan-x"), repo, admin)


def test_coaching_session_with_teachers_of_its_school(repo: FakeRepository) -> None:
    cmd = RecordCoaching("mentoring", "13010001", date(2026, 12, 1), ["T13010001-01", "T13010001-02"], 90)
    session = handlers.record_coaching(cmd, repo, who())
    assert repo.outbox[-1]["payload"]["teacher_ids"] == ["T13010001-01", "T13010001-02"]
    assert session.period == Period(2569, 2)
    for bad in (
        RecordCoaching("mentoring", "13010001", date(2026, 12, 1), ["T13010002-01"], 90),
        RecordCoaching("mentoring", "13010001", date(2026, 12, 1), ["T13010001-01"], 0),
        RecordCoaching("mentoring", "13010001", date(2026, 12, 1), ["T13010001-01"], 481),
    ):
        with pytest.raises(Invalid):
            handlers.record_coaching(bad, repo, who())


def plc(cluster: str = "13P1-C01", schools: tuple[str, ...] = ("13010001", "13010002")) -> RecordPlc:
    return RecordPlc(
        cluster, list(schools), date(2026, 12, 2), "PLC การอ่าน", ["T13010001-01", "T13010002-01"]
    )


def test_a_cluster_coordinator_records_plc_of_their_cluster(repo: FakeRepository) -> None:
    coordinator = who("cluster_coordinator", "cluster", "13P1-C01")
    session = handlers.record_plc(plc(), repo, coordinator)
    event = repo.outbox[-1]
    assert event["org"] == {
        "school_code": None,
        "cluster_id": "13P1-C01",
        "esa_code": "13P1",
        "province_code": "13",
    }
    assert (event["payload"]["teacher_count"], session.school_codes) == (2, ["13010001", "13010002"])
    with pytest.raises(Forbidden):
        handlers.record_plc(plc("13P1-C02", ("13010003", "13010001")), repo, coordinator)


@pytest.mark.parametrize(
    "cmd",
    [
        plc(schools=("13010001",)),  # one school is not a network PLC
        plc(schools=("13010001", "13010003")),  # 13010003 is in another cluster
        plc(cluster="13P9-C09"),  # unknown cluster
        RecordPlc("13P1-C01", ["13010001", "13010002"], date(2026, 12, 2), "t", ["T13010003-01"]),
    ],
)
def test_plc_rules(repo: FakeRepository, cmd: RecordPlc) -> None:
    with pytest.raises(Invalid):
        handlers.record_plc(cmd, repo, who())
    assert repo.saves == 0


def test_reads_outside_scope_look_absent(repo: FakeRepository) -> None:
    visit = schedule(repo)
    assert handlers.get(Visit, visit.id, repo, who("teacher", "school", "13010001").principal) == visit
    assert handlers.get(Visit, visit.id, repo, who("province_officer", "province", "13").principal) == visit
    for ctx in (
        who(code="50P1"),
        who("teacher", "school", "13010002"),
        who("province_officer", "province", "50"),
    ):
        with pytest.raises(NotFound):
            handlers.get(Visit, visit.id, repo, ctx.principal)
    with pytest.raises(NotFound):
        handlers.get(Visit, "visit-none", repo, who().principal)
    with pytest.raises(Forbidden):  # a role that never reads supervision is refused outright
        handlers.get(Visit, visit.id, repo, who("committee_member", "school", "13010001").principal)


def test_lists_never_reach_beyond_the_callers_scope(repo: FakeRepository) -> None:
    schedule(repo, "13010001")
    schedule(repo, "13010002")
    schedule(repo, "50010001", ctx=who(code="50P1"))
    page = {"page": 1, "page_size": 50}

    def codes(ctx: handlers.Context, **filters: Any) -> list[str]:
        items, total = handlers.list_of(Visit, {**page, **filters}, repo, ctx.principal)
        assert total == len(items)
        return sorted(v.school_code for v in items)

    assert codes(who()) == ["13010001", "13010002"]
    assert codes(who(), esa_code="50P1") == []
    assert codes(who(), school_code="13010002") == ["13010002"]
    assert codes(who("teacher", "school", "13010001")) == ["13010001"]
    assert codes(who("national_officer", "national", None), province_code="50") == ["50010001"]
    assert codes(who(), academic_year=2569, semester=1) == []
    assert codes(who(), status="completed") == []


def test_overdue_sweep_marks_each_past_due_follow_up_once(repo: FakeRepository) -> None:
    visit = complete(repo, schedule(repo))
    finding = handlers.record_finding(RecordFinding(visit.id, "assessment", "f", "r"), repo, who())
    late = handlers.open_follow_up(OpenFollowUp(finding.id, "a", "b", date(2026, 12, 1)), repo, who())
    handlers.open_follow_up(OpenFollowUp(finding.id, "a", "b", date(2026, 12, 31)), repo, who())
    before = len(repo.outbox)
    marked = handlers.mark_overdue_follow_ups(date(2026, 12, 2), repo)
    assert [f.id for f in marked] == [late.id]
    new = repo.outbox[before:]
    assert [(e["event_type"], e["aggregate_id"], e["actor"]) for e in new] == [
        ("supervision.FollowUpOverdue", late.id, handlers.SYSTEM_ACTOR)
    ]
    assert repo.audit[-1]["action"] == "follow_up.overdue"
    assert handlers.mark_overdue_follow_ups(date(2026, 12, 2), repo) == []
    assert len(repo.outbox) == before + 1


def test_overdue_sweep_works_through_more_than_one_batch(repo: FakeRepository) -> None:
    visit = complete(repo, schedule(repo))
    finding = handlers.record_finding(RecordFinding(visit.id, "assessment", "f", "r"), repo, who())
    for _ in range(5):
        handlers.open_follow_up(OpenFollowUp(finding.id, "a", "b", date(2026, 12, 1)), repo, who())
    assert len(handlers.mark_overdue_follow_ups(date(2027, 1, 1), repo, batch=2)) == 5


def test_policy_names_only_known_roles_and_keeps_writes_in_area_staff_hands() -> None:
    for action, roles in handlers.POLICY.items():
        assert set(roles) <= set(ROLES), action
    writers = {a: set(r) for a, r in handlers.POLICY.items() if not a.endswith(".read")}
    assert all({"supervisor", "esa_officer"} <= roles for roles in writers.values())
    assert {a for a, roles in writers.items() if "school_director" in roles} == {"follow_up.complete"}
    assert {a for a, roles in writers.items() if "cluster_coordinator" in roles} == {"plc.record"}
    assert not any({"teacher", "province_officer", "national_officer"} & roles for roles in writers.values())


def test_cancel_handler_checks_scope_and_version(repo: FakeRepository) -> None:
    visit = schedule(repo)
    with pytest.raises(Forbidden):
        handlers.cancel_visit(CancelVisit(visit.id), repo, who(code="50P1"))
    with pytest.raises(Conflict):
        handlers.cancel_visit(CancelVisit(visit.id, expected_version=2), repo, who())
    with pytest.raises(NotFound):
        handlers.cancel_visit(CancelVisit("visit-nope"), repo, who())
    assert handlers.cancel_visit(CancelVisit(visit.id, "ฝนตก", 1), repo, who()).status == "cancelled"


def test_every_domain_event_carries_exactly_its_catalog_contracts_fields() -> None:
    import shared.catalog.supervision as contracts
    from services.supervision import events

    kinds = [k for k in vars(events).values() if isinstance(k, type) and k is not events.Event]
    kinds = [k for k in kinds if issubclass(k, events.Event)]
    assert {f"supervision.{k.__name__}" for k in kinds} == {
        t for t, _ in catalog.event_types() if t.startswith("supervision.")
    }
    for kind in kinds:  # each at its type's latest version, with that version's fields
        assert kind.event_version == catalog.latest_version(f"supervision.{kind.__name__}"), kind
        assert {f.name for f in fields(kind)} == set(getattr(contracts, kind.__name__)().fields), kind
