"""`python -m deploy.local.demo_activity`: demo supervision, training and committee activity over four semesters.

For the demo schools of Pathum Thani (13) and Chiang Mai (50) it creates, through the services' HTTP APIs
(so every record passes the domain rules and leaves through the outbox to Kafka), over the semesters of the
current and the previous academic year up to today:

- supervision: a plan per ESA area and semester, visits (completed with rubric scores, a few cancelled, the
  ones after today left planned), findings with follow-ups (some completed, some left open), coaching
  sessions and a cluster PLC session;
- training: a programme per ESA area and semester with three sessions (onsite, online, hybrid), enrolments,
  attendance of the sessions already held, completions of the teachers who met the rule, closed once over;
- committees: a held meeting per past semester for the two demo committees, and one scheduled ahead.

The plan is pure (`build_plan`, seeded random: the same day gives the same plan); the APIs accept past dates
(only a committee meeting must be held on or before today). Idempotent: an area, programme or meeting that
already exists is skipped, and every write carries a deterministic `Idempotency-Key`, so a run cut short
replays what it already did. Tokens are issued here with `shared.auth.issue_token`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from typing import Any

import requests
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shared.auth import issue_token
from shared.calendar import Period, Term, period_of, periods_ending, terms, today
from shared.settings import Settings

SEED = 2569
PROVINCES = ("13", "50")
SEMESTERS = 4  # the current semester and the three before it: this academic year and the previous one
HOST = "127.0.0.1"  # the default of ANP_DEMO_API_HOST (Settings.demo_api_host)
KEY_PREFIX = "demo-activity"
SYNC_WAIT_S = 30  # how long a write waits for the directory sync to bring a school or teacher it names

RUBRIC = ("learning_design", "teaching_methods", "classroom_management", "assessment", "learning_media")
FINDINGS = {
    "learning_design": (
        "แผนการจัดการเรียนรู้ยังไม่ระบุตัวชี้วัดชัดเจน",
        "ทบทวนแผนร่วมกับ PLC ของกลุ่มสาระ",
    ),
    "teaching_methods": (
        "นักเรียนมีส่วนร่วมในกิจกรรมน้อย ครูบรรยายเป็นหลัก",
        "ใช้กิจกรรม Active Learning อย่างน้อยสัปดาห์ละ 2 ครั้ง",
    ),
    "classroom_management": (
        "การจัดกลุ่มนักเรียนยังไม่ทั่วถึง",
        "จัดผังชั้นเรียนแบบกลุ่มและกำหนดบทบาทในกลุ่ม",
    ),
    "assessment": (
        "การประเมินระหว่างเรียนยังไม่สะท้อนผลการเรียนรู้",
        "ใช้ rubric และ exit ticket ทุกคาบ",
    ),
    "learning_media": (
        "สื่อการสอนยังไม่หลากหลาย",
        "ใช้สื่อดิจิทัลจากคลังของ สพฐ. ร่วมกับสื่อของจริง",
    ),
}
PROGRAMMES = (
    ("การจัดการเรียนรู้เชิงรุก (Active Learning)", "Active learning in practice", "active learning", "all", "all"),
    ("การสอนวิทยาการคำนวณ", "Teaching computing science", "coding", "science", "p4_6"),
    ("การอ่านออกเขียนได้ ป.1-3", "Early literacy, P1-3", "literacy", "thai", "p1_3"),
    ("การประเมินเพื่อการเรียนรู้", "Assessment for learning", "assessment", "all", "all"),
)
FOCUS_AREAS = ("การจัดการเรียนรู้เชิงรุก", "การอ่านออกเขียนได้", "การวัดและประเมินผล", "สื่อดิจิทัล")
AGENDAS = (
    ("รับรองรายงานการประชุมครั้งก่อน", "ผลการดำเนินงานภาคเรียน", "แผนพัฒนาคุณภาพการศึกษา"),
    ("ติดตามมติที่ประชุม", "งบประมาณและการระดมทรัพยากร", "กิจกรรมร่วมกับชุมชน"),
    ("รายงานผลการนิเทศ", "ผลสัมฤทธิ์ทางการเรียน", "เรื่องอื่น ๆ"),
)


# --- the demo directory, as the plan needs it ---------------------------------------------------------------


@dataclass(frozen=True)
class School:
    code: str
    esa_code: str
    cluster_id: str
    size: str
    teachers: tuple[str, ...]


def demo_schools(provinces: Iterable[str] = PROVINCES) -> list[School]:
    """The demo directory's schools of these provinces with their teachers (services/directory/demo)."""
    demo = resources.files("services.directory").joinpath("demo")
    teachers: dict[str, list[str]] = {}
    with demo.joinpath("teachers.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            teachers.setdefault(row["school_code"], []).append(row["teacher_id"])
    wanted = set(provinces)
    with demo.joinpath("schools.csv").open(encoding="utf-8") as f:
        return [
            School(
                row["school_code"],
                row["esa_code"],
                row["cluster_id"],
                row["size_category"],
                tuple(sorted(teachers.get(row["school_code"], []))),
            )
            for row in csv.DictReader(f)
            if row["province_code"] in wanted and teachers.get(row["school_code"])
        ]


# --- the plan (pure) ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUpSpec:
    domain: str
    due: date
    completed_on: date | None  # None: left open (overdue once past its due date)


@dataclass(frozen=True)
class VisitSpec:
    key: str
    school: str
    scheduled: date
    mode: str
    outcome: str  # completed | cancelled | scheduled
    scores: dict[str, int] = field(default_factory=dict)
    teachers: tuple[str, ...] = ()
    follow_up: FollowUpSpec | None = None


@dataclass(frozen=True)
class CoachingSpec:
    key: str
    kind: str
    school: str
    day: date
    teachers: tuple[str, ...]
    minutes: int


@dataclass(frozen=True)
class PlcSpec:
    key: str
    cluster_id: str
    schools: tuple[str, ...]
    day: date
    teachers: tuple[str, ...]


@dataclass(frozen=True)
class SupervisionSpec:
    """One ESA area's supervision in one semester."""

    key: str
    esa_code: str
    period: Period
    targets: tuple[str, ...]
    focus: tuple[str, ...]
    visits: tuple[VisitSpec, ...]
    coaching: tuple[CoachingSpec, ...]
    plc: tuple[PlcSpec, ...]


@dataclass(frozen=True)
class SessionSpec:
    mode: str
    day: date
    start: str
    end: str
    minutes: int


@dataclass(frozen=True)
class ProgrammeSpec:
    """One ESA area's PD programme in one semester, with what its teachers did."""

    key: str
    esa_code: str
    period: Period
    title_th: str
    title_en: str
    competency: str
    subject: str
    grade_band: str
    hours: float
    sessions: tuple[SessionSpec, ...]
    enrolments: tuple[tuple[str, str], ...]  # (teacher, mode)
    attendance: tuple[tuple[int, str, str, int], ...]  # (session index, teacher, mode, minutes)
    completions: tuple[tuple[str, float], ...]  # (teacher, assessment score)
    close: bool


@dataclass(frozen=True)
class MeetingSpec:
    key: str
    committee: str  # "school:<code>" or "cluster:<id>"
    day: date
    agenda: tuple[str, ...]
    hold: bool


@dataclass(frozen=True)
class Plan:
    today: date
    periods: tuple[Period, ...]
    supervision: tuple[SupervisionSpec, ...]
    programmes: tuple[ProgrammeSpec, ...]
    meetings: tuple[MeetingSpec, ...]

    def counts(self) -> dict[str, int]:
        visits = [v for s in self.supervision for v in s.visits]
        follow_ups = [v.follow_up for v in visits if v.follow_up]
        return {
            "plans": len(self.supervision),
            "visits": len(visits),
            "visits completed": sum(v.outcome == "completed" for v in visits),
            "visits cancelled": sum(v.outcome == "cancelled" for v in visits),
            "visits planned": sum(v.outcome == "scheduled" for v in visits),
            "findings + follow-ups": len(follow_ups),
            "follow-ups completed": sum(f.completed_on is not None for f in follow_ups),
            "coaching sessions": sum(len(s.coaching) for s in self.supervision),
            "PLC sessions": sum(len(s.plc) for s in self.supervision),
            "programmes": len(self.programmes),
            "training sessions": sum(len(p.sessions) for p in self.programmes),
            "enrolments": sum(len(p.enrolments) for p in self.programmes),
            "attendance records": sum(len(p.attendance) for p in self.programmes),
            "completions": sum(len(p.completions) for p in self.programmes),
            "meetings": len(self.meetings),
            "meetings held": sum(m.hold for m in self.meetings),
        }


def _term(period: Period) -> Term:
    for term in terms():
        if term.period == period:
            return term
    raise ValueError(f"no stored term for {period.key}")


def _day_between(rng: random.Random, first: date, last: date) -> date:
    """A school day (Monday-Friday) in [first, last]; `first` when the range is empty."""
    if last < first:
        return first
    for _ in range(20):
        day = first + timedelta(days=rng.randint(0, (last - first).days))
        if day.weekday() < 5:
            return day
    return first


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def attendance_share(sessions: tuple[SessionSpec, ...], minutes: dict[int, int]) -> float:
    """As the training service counts it: minutes attended over all session minutes."""
    total = sum(s.minutes for s in sessions)
    return sum(min(minutes.get(i, 0), s.minutes) for i, s in enumerate(sessions)) / total if total else 0.0


def build_plan(on: date, schools: list[School], seed: int = SEED, semesters: int = SEMESTERS) -> Plan:
    """What to create, as of `on`: deterministic for one (day, schools, seed)."""
    periods = tuple(periods_ending(period_of(on), semesters))
    areas: dict[str, list[School]] = {}
    for school in schools:
        areas.setdefault(school.esa_code, []).append(school)
    supervision: list[SupervisionSpec] = []
    programmes: list[ProgrammeSpec] = []
    for index, period in enumerate(periods):
        term = _term(period)
        for esa_code in sorted(areas):
            rng = random.Random(f"{seed}:{period.key}:{esa_code}")
            supervision.append(_supervision(rng, on, term, index, esa_code, areas[esa_code]))
            teachers = [t for s in areas[esa_code] for t in s.teachers]
            if len(teachers) >= 8:  # the single-school secondary area hosts no programme of its own
                programmes.append(_programme(rng, on, term, index, esa_code, teachers))
    return Plan(on, periods, tuple(supervision), tuple(programmes), tuple(_meetings(on, periods, seed)))


def _supervision(
    rng: random.Random, on: date, term: Term, index: int, esa_code: str, schools: list[School]
) -> SupervisionSpec:
    key = f"{term.period.key}:{esa_code}"
    first, last = term.start + timedelta(days=10), term.end - timedelta(days=5)
    visits: list[VisitSpec] = []
    for school in sorted(schools, key=lambda s: s.code):
        # every school once a semester, the large ones twice; rubric scores improve a little each semester
        base = 2.2 + (int(hashlib.sha256(school.code.encode()).hexdigest(), 16) % 9) / 10 + 0.2 * index
        for n in range(2 if school.size in ("large", "extra_large") else 1):
            day = _day_between(rng, first, last)
            if first < on <= last and rng.random() < 0.4:  # the semester under way: some visits already done
                day = _day_between(rng, first, on - timedelta(days=1))
            vkey = f"{key}:visit:{school.code}:{n}"
            mode = "online" if rng.random() < 0.25 else "onsite"
            if day >= on:
                visits.append(VisitSpec(vkey, school.code, day, mode, "scheduled"))
                continue
            if rng.random() < 0.08:
                visits.append(VisitSpec(vkey, school.code, day, mode, "cancelled"))
                continue
            scores = {d: max(1, min(4, round(base + rng.uniform(-0.9, 0.9)))) for d in RUBRIC}
            observed = tuple(
                sorted(rng.sample(school.teachers, min(len(school.teachers), rng.randint(1, 3))))
            )
            follow_up = None
            if rng.random() < 0.6:
                weakest = min(RUBRIC, key=lambda d: (scores[d], RUBRIC.index(d)))
                due = day + timedelta(days=rng.randint(21, 45))
                done = rng.random() < 0.7 and due < on
                completed_on = (
                    min(day + timedelta(days=rng.randint(10, (due - day).days + 7)), on - timedelta(days=1))
                    if done
                    else None
                )
                follow_up = FollowUpSpec(weakest, due, completed_on)
            visits.append(VisitSpec(vkey, school.code, day, mode, "completed", scores, observed, follow_up))
    past_last = min(last, on - timedelta(days=1))
    coaching = []
    for n in range(2):
        school = rng.choice(sorted(schools, key=lambda s: s.code))
        day = _day_between(rng, first, past_last)
        if day >= on:
            continue
        teachers = tuple(sorted(rng.sample(school.teachers, min(len(school.teachers), rng.randint(1, 2)))))
        kind = "coaching" if n == 0 else "mentoring"
        coaching.append(
            CoachingSpec(f"{key}:coaching:{n}", kind, school.code, day, teachers, rng.choice((60, 90, 120)))
        )
    plc = []
    clusters: dict[str, list[School]] = {}
    for school in schools:
        if school.cluster_id:
            clusters.setdefault(school.cluster_id, []).append(school)
    for cluster_id, members in sorted(clusters.items()):
        day = _day_between(rng, first, past_last)
        if len(members) < 2 or day >= on:
            continue
        members = sorted(members, key=lambda s: s.code)
        teachers = tuple(s.teachers[0] for s in members)
        plc.append(
            PlcSpec(f"{key}:plc:{cluster_id}", cluster_id, tuple(s.code for s in members), day, teachers)
        )
    return SupervisionSpec(
        key,
        esa_code,
        term.period,
        tuple(sorted(s.code for s in schools)),
        tuple(rng.sample(FOCUS_AREAS, 2)),
        tuple(visits),
        tuple(coaching),
        tuple(plc),
    )


def _programme(
    rng: random.Random, on: date, term: Term, index: int, esa_code: str, teachers: list[str]
) -> ProgrammeSpec:
    key = f"{term.period.key}:{esa_code}:programme"
    title_th, title_en, competency, subject, band = PROGRAMMES[index % len(PROGRAMMES)]
    start = _weekday_on_or_after(term.start + timedelta(days=rng.randint(7, 14)))
    sessions = []
    for i, mode in enumerate(("onsite", "online", "hybrid")):
        day = _weekday_on_or_after(start + timedelta(days=14 * i))
        begin, end, minutes = ("09:00", "12:00", 180) if mode != "online" else ("13:00", "15:00", 120)
        sessions.append(SessionSpec(mode, day, begin, end, minutes))
    enrolled = sorted(rng.sample(teachers, min(len(teachers), rng.randint(8, 12))))
    enrolments = tuple((t, "online" if rng.random() < 0.3 else "onsite") for t in enrolled)
    attendance: list[tuple[int, str, str, int]] = []
    minutes_by_teacher: dict[str, dict[int, int]] = {}
    for i, session in enumerate(sessions):
        if session.day >= on:
            continue
        for teacher, mode in enrolments:
            roll = rng.random()
            if roll < 0.07:
                continue  # absent
            minutes = session.minutes if roll > 0.15 else round(session.minutes * rng.uniform(0.5, 0.9))
            attend_mode = (
                mode if mode in ("onsite", "online") and _offers(session.mode, mode) else session.mode
            )
            attendance.append((i, teacher, attend_mode, minutes))
            minutes_by_teacher.setdefault(teacher, {})[i] = minutes
    over = all(s.day < on for s in sessions)
    completions = []
    if over:
        for teacher, _ in enrolments:
            score = round(rng.uniform(52, 98), 1)
            share = attendance_share(tuple(sessions), minutes_by_teacher.get(teacher, {}))
            if share >= 0.8 and score >= 60:
                completions.append((teacher, score))
    return ProgrammeSpec(
        key,
        esa_code,
        term.period,
        f"{title_th} ({esa_code}, ภาคเรียนที่ {term.period.semester}/{term.period.academic_year})",
        f"{title_en} ({esa_code}, semester {term.period.semester}/{term.period.academic_year})",
        competency,
        subject,
        band,
        float(rng.choice((6, 9, 12))),
        tuple(sessions),
        enrolments,
        tuple(attendance),
        tuple(completions),
        close=over and term.end < on,
    )


def _offers(session_mode: str, mode: str) -> bool:
    return session_mode == "hybrid" or session_mode == mode


def _meetings(on: date, periods: tuple[Period, ...], seed: int) -> list[MeetingSpec]:
    meetings = []
    for committee in ("school:13010001", "cluster:13P1-C01"):
        rng = random.Random(f"{seed}:{committee}")
        for i, period in enumerate(periods[:-1]):
            term = _term(period)
            day = _day_between(rng, term.start + timedelta(days=20), term.end - timedelta(days=10))
            if day < on:
                meetings.append(
                    MeetingSpec(f"{period.key}:{committee}", committee, day, AGENDAS[i % 3], True)
                )
        ahead = _weekday_on_or_after(on + timedelta(days=14))
        meetings.append(MeetingSpec(f"ahead:{committee}", committee, ahead, AGENDAS[2], False))
    return meetings


# --- running it against the services --------------------------------------------------------------------


class ApiError(Exception):
    pass


def base_url(settings: Settings, service: str) -> str:
    """`http://host:port` of a service: ANP_DEMO_API_HOST (127.0.0.1 by default; `{service}` in it becomes the
    service's name, its hostname under docker compose) and the service's ANP_<SERVICE>_PORT."""
    host = (settings.demo_api_host or HOST).replace("{service}", service)
    return f"http://{host}:{settings.ports[service]}"


class Api:
    """The services' HTTP APIs, one bearer token per caller; a `requests` session per thread."""

    def __init__(self, settings: Settings, calls: Callable[[], None] = lambda: None) -> None:
        self.settings = settings
        self.tokens: dict[tuple[str, str, str, str | None], str] = {}
        self.local = threading.local()
        self.on_call = calls
        self.lock = threading.Lock()

    def token(self, sub: str, role: str, level: str, code: str | None) -> str:
        with self.lock:
            k = (sub, role, level, code)
            if k not in self.tokens:
                self.tokens[k] = issue_token(
                    self.settings, sub=sub, role=role, scope_level=level, scope_code=code,
                    name=f"Demo activity ({sub})", ttl=timedelta(hours=1),
                )  # fmt: skip
            return self.tokens[k]

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def call(
        self, service: str, method: str, path: str, token: str, body: Any = None, key: str | None = None,
        params: dict[str, Any] | None = None, retry_unknown_s: float = SYNC_WAIT_S,
    ) -> dict[str, Any]:  # fmt: skip
        url = f"{base_url(self.settings, service)}/api/v1{path}"
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = f"{KEY_PREFIX}:{key}"[:100]
        deadline = time.monotonic() + retry_unknown_s
        while True:
            resp = self._session().request(method, url, json=body, headers=headers, params=params, timeout=30)
            self.on_call()
            if resp.status_code < 300:
                return dict(resp.json())
            # the directory sync copies schools and teachers asynchronously: wait for them a little
            not_synced = (resp.status_code == 422 and "unknown" in resp.text) or (
                resp.status_code == 404 and "no teacher" in resp.text
            )
            if not_synced and time.monotonic() < deadline:
                time.sleep(0.5)
                continue
            raise ApiError(f"{method} {service}{path}: {resp.status_code} {resp.text[:300]}")


def supervisor(api: Api, esa_code: str) -> str:
    return api.token(f"sup-{esa_code}", "supervisor", "esa", esa_code)


def esa_officer(api: Api, esa_code: str) -> str:
    return api.token(f"esa-{esa_code}", "esa_officer", "esa", esa_code)


def run_supervision(api: Api, spec: SupervisionSpec) -> str:
    tok = supervisor(api, spec.esa_code)
    existing = api.call(
        "supervision", "GET", "/plans", tok,
        params={"esa_code": spec.esa_code, **spec.period.as_dict(), "page_size": 1},
    )  # fmt: skip
    if existing["total"]:
        return "skipped"
    plan = api.call(
        "supervision", "POST", "/plans", tok, key=f"{spec.key}:plan",
        body={
            "title": f"แผนการนิเทศ {spec.esa_code} ภาคเรียนที่ {spec.period.semester}/{spec.period.academic_year}",
            "academic_year": spec.period.academic_year,
            "semester": spec.period.semester,
            "target_school_codes": list(spec.targets),
            "focus_areas": list(spec.focus),
        },
    )  # fmt: skip
    for v in spec.visits:
        visit = api.call(
            "supervision", "POST", "/visits", tok, key=v.key,
            body={"school_code": v.school, "scheduled_date": v.scheduled.isoformat(), "mode": v.mode, "plan_id": plan["id"]},
        )  # fmt: skip
        if v.outcome == "cancelled":
            api.call("supervision", "POST", f"/visits/{visit['id']}/cancel", tok, key=f"{v.key}:cancel",
                     body={"reason": "ติดภารกิจของโรงเรียน เลื่อนไปภาคเรียนหน้า"})  # fmt: skip
        if v.outcome != "completed":
            continue
        api.call(
            "supervision", "POST", f"/visits/{visit['id']}/complete", tok, key=f"{v.key}:complete",
            body={"visit_date": v.scheduled.isoformat(), "rubric_scores": v.scores, "teachers_observed": list(v.teachers)},
        )  # fmt: skip
        if v.follow_up is None:
            continue
        text, recommendation = FINDINGS[v.follow_up.domain]
        finding = api.call(
            "supervision", "POST", f"/visits/{visit['id']}/findings", tok, key=f"{v.key}:finding",
            body={"domain": v.follow_up.domain, "finding": text, "recommendation": recommendation},
        )  # fmt: skip
        follow_up = api.call(
            "supervision", "POST", f"/findings/{finding['id']}/follow-ups", tok, key=f"{v.key}:follow-up",
            body={"owner": "ผู้อำนวยการโรงเรียน", "action": recommendation, "due_date": v.follow_up.due.isoformat()},
        )  # fmt: skip
        if v.follow_up.completed_on is not None:
            api.call(
                "supervision", "POST", f"/follow-ups/{follow_up['id']}/complete", tok, key=f"{v.key}:follow-up-done",
                body={"completed_date": v.follow_up.completed_on.isoformat(), "note": "ดำเนินการแล้ว"},
            )  # fmt: skip
    for c in spec.coaching:
        api.call(
            "supervision", "POST", "/coaching-sessions", tok, key=c.key,
            body={"kind": c.kind, "school_code": c.school, "session_date": c.day.isoformat(),
                  "teacher_ids": list(c.teachers), "minutes": c.minutes, "topic": "การออกแบบกิจกรรมการเรียนรู้"},
        )  # fmt: skip
    for p in spec.plc:
        api.call(
            "supervision", "POST", "/plc-sessions", tok, key=p.key,
            body={"cluster_id": p.cluster_id, "school_codes": list(p.schools), "session_date": p.day.isoformat(),
                  "topic": "แลกเปลี่ยนผลการนิเทศและแนวทางพัฒนา", "teacher_ids": list(p.teachers)},
        )  # fmt: skip
    return "created"


def run_programme(api: Api, spec: ProgrammeSpec) -> str:
    tok = esa_officer(api, spec.esa_code)
    existing = api.call(
        "training", "GET", "/programmes", tok,
        params={"esa_code": spec.esa_code, **spec.period.as_dict(), "page_size": 50},
    )  # fmt: skip
    if any(p["title_th"] == spec.title_th for p in existing["items"]):
        return "skipped"
    programme = api.call(
        "training", "POST", "/programmes", tok, key=spec.key,
        body={
            "title_th": spec.title_th, "title_en": spec.title_en, "competency_area": spec.competency,
            "subject": spec.subject, "grade_band": spec.grade_band, "credited_hours": spec.hours,
            "start_date": spec.sessions[0].day.isoformat(), "host_level": "esa", "host_code": spec.esa_code,
            "min_attendance_share": 0.8, "min_assessment_score": 60,
        },
    )  # fmt: skip
    pid = programme["id"]
    session_ids = []
    for i, s in enumerate(spec.sessions):
        body: dict[str, Any] = {"mode": s.mode, "session_date": s.day.isoformat(), "start_time": s.start,
                                "end_time": s.end, "title": f"ครั้งที่ {i + 1}"}  # fmt: skip
        if s.mode in ("onsite", "hybrid"):
            body.update(venue=f"ห้องประชุม {spec.esa_code}", capacity_onsite=40)
        if s.mode in ("online", "hybrid"):
            body.update(meeting_link="https://meet.example.org/anp-demo", capacity_online=40)
        made = api.call(
            "training", "POST", f"/programmes/{pid}/sessions", tok, key=f"{spec.key}:session:{i}", body=body
        )
        session_ids.append(made["session"]["id"])
    api.call("training", "POST", f"/programmes/{pid}/publish", tok, key=f"{spec.key}:publish", body={})
    for teacher, mode in spec.enrolments:
        api.call("training", "POST", f"/programmes/{pid}/enrolments", tok, key=f"{spec.key}:enrol:{teacher}",
                 body={"teacher_id": teacher, "mode": mode})  # fmt: skip
    for i, teacher, mode, minutes in spec.attendance:
        api.call("training", "POST", f"/programmes/{pid}/attendance", tok, key=f"{spec.key}:att:{i}:{teacher}",
                 body={"session_id": session_ids[i], "teacher_id": teacher, "mode": mode, "minutes": minutes})  # fmt: skip
    for teacher, score in spec.completions:
        api.call("training", "POST", f"/programmes/{pid}/completions", tok, key=f"{spec.key}:done:{teacher}",
                 body={"teacher_id": teacher, "assessment_score": score})  # fmt: skip
    if spec.close:
        api.call("training", "POST", f"/programmes/{pid}/close", tok, key=f"{spec.key}:close", body={})
    return "created"


def committee_caller(api: Api, committee: str) -> tuple[str, dict[str, str]]:
    level, code = committee.split(":")
    if level == "school":
        return api.token(f"dir-{code}", "school_director", "school", code), {"school_code": code}
    return api.token(f"coord-{code}", "cluster_coordinator", "cluster", code), {"cluster_id": code}


def run_meetings(api: Api, committee: str, specs: list[MeetingSpec]) -> str:
    tok, where = committee_caller(api, committee)
    found = api.call("committee", "GET", "/committees", tok, params={**where, "page_size": 50})["items"]
    found = [c for c in found if (c.get("school_code") or c.get("cluster_id")) == committee.split(":")[1]]
    if not found:
        return "skipped: no committee (services.committee.cli seed-demo makes it)"
    board = found[0]
    meetings = api.call(
        "committee", "GET", f"/committees/{board['id']}/meetings", tok, params={"page_size": 200}
    )["items"]
    have = {m["meeting_date"] for m in meetings if m["committee_id"] == board["id"]}
    made = 0
    for spec in specs:
        if spec.day.isoformat() in have:
            continue
        meeting = api.call(
            "committee", "POST", f"/committees/{board['id']}/meetings", tok, key=f"{spec.key}:schedule",
            body={"meeting_date": spec.day.isoformat(), "agenda": list(spec.agenda), "location": "ห้องประชุมโรงเรียน", "mode": "onsite"},
        )  # fmt: skip
        made += 1
        if not spec.hold:
            continue
        rng = random.Random(f"{SEED}:{spec.key}")
        attendance = {}
        for member in board["members"]:
            if member["term_start"] <= spec.day.isoformat() and (
                not member["term_end"] or spec.day.isoformat() <= member["term_end"]
            ):
                roll = rng.random()
                attendance[member["id"]] = (
                    "present" if roll < 0.8 else ("excused" if roll < 0.9 else "absent")
                )
        api.call(
            "committee", "POST", f"/meetings/{meeting['id']}/hold", tok, key=f"{spec.key}:hold",
            body={"attendance": attendance, "minutes": "ที่ประชุมรับทราบและมีมติตามวาระ"},
        )  # fmt: skip
    return "created" if made else "skipped"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.local.demo_activity", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--workers", type=int, default=6, help="requests in flight at once")
    args = parser.parse_args(argv)
    console = Console()
    began = time.monotonic()
    plan = build_plan(today(), demo_schools())
    total_calls = 0
    counter = threading.Lock()

    def tick() -> None:
        nonlocal total_calls
        with counter:
            total_calls += 1

    api = Api(Settings.from_env(), tick)
    committees: dict[str, list[MeetingSpec]] = {}
    for m in plan.meetings:
        committees.setdefault(m.committee, []).append(m)
    jobs: list[tuple[str, Callable[[], str]]] = [
        *((f"training {p.key}", lambda p=p: run_programme(api, p)) for p in plan.programmes),
        *((f"supervision {s.key}", lambda s=s: run_supervision(api, s)) for s in plan.supervision),
        *((f"meetings {c}", lambda c=c, ms=ms: run_meetings(api, c, ms)) for c, ms in committees.items()),
    ]
    periods = ", ".join(p.key for p in plan.periods)
    console.print(
        f"demo activity for provinces {', '.join(PROVINCES)}, semesters {periods} (as of {plan.today})"
    )
    failures = []
    results: dict[str, int] = {}
    with (
        Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                 console=console, transient=False) as progress,
        ThreadPoolExecutor(max_workers=args.workers) as pool,
    ):  # fmt: skip
        task = progress.add_task("creating", total=len(jobs))
        futures = {pool.submit(job): name for name, job in jobs}
        for future in as_completed(futures):
            name = futures[future]
            try:
                outcome = future.result()
                results[outcome] = results.get(outcome, 0) + 1
            except (ApiError, requests.RequestException) as exc:
                failures.append(f"{name}: {exc}")
            progress.advance(task)
    elapsed = time.monotonic() - began
    if failures:
        for failure in failures:
            console.print(f"[red]{failure}[/]")
        console.print(f"[red]demo activity: {len(failures)} of {len(jobs)} jobs failed[/]")
        return 1
    counts = ", ".join(f"{v} {k}" for k, v in plan.counts().items())
    console.print(
        f"demo activity: {', '.join(f'{v} {k}' for k, v in sorted(results.items()))} "
        f"(of {len(jobs)} area-semester jobs), {total_calls} requests, {elapsed:.1f} s"
    )
    console.print(f"[dim]planned: {counts}[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
