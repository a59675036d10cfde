"""The demo activity plan (deploy/local/demo_activity.py): pure, no network."""

from __future__ import annotations

from datetime import date

import pytest

from deploy.local import run
from deploy.local.demo_activity import (
    RUBRIC,
    Plan,
    attendance_share,
    build_plan,
    demo_schools,
)
from shared.calendar import Period, period_of

ON = date(2026, 11, 24)  # three weeks into semester 2/2569


@pytest.fixture(scope="module")
def plan() -> Plan:
    return build_plan(ON, demo_schools())


def test_demo_schools_are_those_of_pathum_thani_and_chiang_mai() -> None:
    schools = demo_schools()
    assert {s.code[:2] for s in schools} == {"13", "50"}
    assert all(s.teachers for s in schools)
    assert {s.esa_code for s in schools} == {"13P1", "13P2", "13S1", "50P1"}


def test_plan_is_deterministic(plan: Plan) -> None:
    assert build_plan(ON, demo_schools()) == plan
    assert build_plan(ON, demo_schools(), seed=1) != plan


def test_four_semesters_of_this_and_last_academic_year(plan: Plan) -> None:
    assert plan.periods == (Period(2568, 1), Period(2568, 2), Period(2569, 1), Period(2569, 2))
    assert {(s.esa_code, s.period) for s in plan.supervision} == {
        (esa, p) for esa in ("13P1", "13P2", "13S1", "50P1") for p in plan.periods
    }


def test_visits_past_are_done_and_future_planned(plan: Plan) -> None:
    visits = [(s.period, v) for s in plan.supervision for v in s.visits]
    assert all(period_of(v.scheduled) == period for period, v in visits)
    for _, v in visits:
        if v.outcome == "scheduled":
            assert v.scheduled >= ON and not v.scores
        else:
            assert v.scheduled < ON
        if v.outcome == "completed":
            assert set(v.scores) == set(RUBRIC) and all(1 <= x <= 4 for x in v.scores.values())
            assert v.teachers
    counts = plan.counts()
    assert counts["visits completed"] > 30 and counts["visits cancelled"] > 0 and counts["visits planned"] > 0
    # the semester under way already has some visits done
    assert any(p == Period(2569, 2) and v.outcome == "completed" for p, v in visits)


def test_follow_ups_some_completed_some_open(plan: Plan) -> None:
    visits = [v for s in plan.supervision for v in s.visits]
    follow_ups = [v.follow_up for v in visits if v.follow_up]
    assert all(v.outcome == "completed" for v in visits if v.follow_up)
    done = [f for f in follow_ups if f.completed_on]
    assert done and len(done) < len(follow_ups)
    assert all(f.completed_on < ON for f in done)
    for v in visits:
        if v.follow_up:
            assert v.follow_up.due > v.scheduled  # the service refuses a follow-up due before the visit


def test_teachers_belong_to_their_school(plan: Plan) -> None:
    teachers = {s.code: set(s.teachers) for s in demo_schools()}
    for spec in plan.supervision:
        for v in spec.visits:
            assert set(v.teachers) <= teachers[v.school]
        for c in spec.coaching:
            assert set(c.teachers) <= teachers[c.school] and c.day < ON
        for p in spec.plc:
            assert len(p.schools) >= 2 and set(p.teachers) <= set().union(*(teachers[s] for s in p.schools))


def test_programmes_attendance_and_completions_follow_the_rule(plan: Plan) -> None:
    assert len(plan.programmes) == 12  # three ESA areas with enough teachers, four semesters
    for p in plan.programmes:
        enrolled = {t for t, _ in p.enrolments}
        assert [s.mode for s in p.sessions] == ["onsite", "online", "hybrid"]
        assert period_of(p.sessions[0].day) == p.period
        for i, teacher, mode, minutes in p.attendance:
            session = p.sessions[i]
            assert teacher in enrolled and session.day < ON and 0 < minutes <= session.minutes
            assert session.mode == "hybrid" or session.mode == mode
        minutes: dict[str, dict[int, int]] = {}
        for i, teacher, _, m in p.attendance:
            minutes.setdefault(teacher, {})[i] = m
        for teacher, score in p.completions:
            assert attendance_share(p.sessions, minutes[teacher]) >= 0.8 and score >= 60
        if p.completions or p.close:
            assert all(s.day < ON for s in p.sessions)
    past = [p for p in plan.programmes if p.period != Period(2569, 2)]
    assert all(p.close and p.completions for p in past)
    current = [p for p in plan.programmes if p.period == Period(2569, 2)]
    assert current and not any(p.close for p in current)


def test_meetings_held_only_in_the_past(plan: Plan) -> None:
    assert plan.meetings
    for m in plan.meetings:
        assert (m.day < ON) == m.hold
    assert {m.committee for m in plan.meetings} == {"school:13010001", "cluster:13P1-C01"}


def test_attendance_share() -> None:
    from deploy.local.demo_activity import SessionSpec

    sessions = (
        SessionSpec("onsite", ON, "09:00", "12:00", 180),
        SessionSpec("online", ON, "13:00", "15:00", 120),
    )
    assert attendance_share(sessions, {0: 180, 1: 120}) == 1
    assert attendance_share(sessions, {0: 180}) == pytest.approx(0.6)
    assert attendance_share((), {}) == 0


def test_seeding_runs_last_at_make_run() -> None:
    assert run.SEED_STEPS[-1][1][-1] == "deploy.local.demo_activity"
