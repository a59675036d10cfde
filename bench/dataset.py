"""The national data set every benchmark reads: master data, a school year of activity and its results.

Deterministic for a seed. Events are built as the producers build them (the envelope of shared/envelope.py,
the contracts of shared/catalog) and serialised straight to wire bytes: validating two million events with
marshmallow on the way out would cost minutes, so a sample of every event type is decoded through the catalog
here, and the projector decodes (and would dead-letter) every one of them anyway.

Activity is generated as stories (a visit scheduled, completed, a finding, its follow-up; a teacher enrolled,
attending, completing; a board meeting held, minutes, a resolution, its action item), at schools picked in
proportion to their teachers, spread over the two semesters of academic year 2568.
"""

from __future__ import annotations

import functools
import json
import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from kafka import KafkaProducer
from kafka.producer.future import RecordMetadata

from bench.harness import Bench
from services.achievement import generator as achievement_generator
from services.achievement.domain import result_id
from services.achievement.rows import BAND_PREFIX
from services.directory import generator as directory_generator
from shared.calendar import Period, terms
from shared.catalog import catalog
from shared.settings import TOPICS

SEED = 2568
YEAR = 2568  # Buddhist Era: both semesters are over, so every story has run its course
RUBRIC_DOMAINS = ("learning_design", "assessment", "classroom_management", "media_use", "reflection")
STAKEHOLDERS = (
    ("school_director", 1),
    ("teacher", 2),
    ("parent", 2),
    ("community_leader", 1),
    ("religious_leader", 1),
    ("local_government", 1),
    ("alumni", 1),
)
# share of activity events per model (each story writes several events)
MODEL_SHARE = {"supervision": 0.40, "training": 0.35, "committee": 0.25}
ACTIVITY_TOPICS = (TOPICS["supervision"], TOPICS["training"], TOPICS["committee"])
PROJECTED_TOPICS = (TOPICS["directory"], *ACTIVITY_TOPICS, TOPICS["achievement"])

Org = dict[str, str | None]
latest_version = functools.cache(catalog.latest_version)  # producers publish the latest version
Wire = tuple[bytes, bytes]  # (key, value)


@dataclass
class DataSet:
    """Wire records per topic, in the order a producer would publish them."""

    schools: int
    teachers: int
    records: dict[str, list[Wire]] = field(default_factory=lambda: defaultdict(list))
    by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def count(self, topics: tuple[str, ...] = PROJECTED_TOPICS) -> int:
        return sum(len(self.records[t]) for t in topics)


class Builder:
    """Envelopes from a seeded generator: the same seed gives byte-identical records."""

    def __init__(self, data: DataSet, seed: int) -> None:
        self.data = data
        self.rng = random.Random(seed)

    def emit(
        self, topic: str, event_type: str, org: Org, aggregate: str, payload: dict[str, Any], day: date
    ) -> None:
        at = datetime.combine(day, time(8), UTC) + timedelta(seconds=self.rng.randrange(9 * 3600))
        envelope = {
            "event_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "event_type": event_type,
            "event_version": latest_version(event_type),
            "occurred_at": at.isoformat(),
            "producer": event_type.split(".")[0],
            "aggregate_id": aggregate,
            "aggregate_version": 1,
            "correlation_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "actor": "bench",
            "org": org,
            "payload": payload,
        }
        key = (org.get("esa_code") or aggregate).encode()  # as the relay keys them: one area in order
        value = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
        self.data.records[topic].append((key, value))
        self.data.by_type[event_type] += 1


# --- master data ---------------------------------------------------------------------------------------------


def school_org(school: dict[str, Any]) -> Org:
    return {
        "school_code": school["school_code"],
        "cluster_id": school["cluster_id"] or None,
        "esa_code": school["esa_code"],
        "province_code": school["province_code"],
    }


def _directory(b: Builder, master: directory_generator.DataSet) -> None:
    topic, day = TOPICS["directory"], date(2025, 5, 1)
    province_of = {a["esa_code"]: a["province_code"] for a in master.esa_areas}
    for area in master.esa_areas:
        org = {
            "school_code": None,
            "cluster_id": None,
            "esa_code": area["esa_code"],
            "province_code": area["province_code"],
        }
        b.emit(topic, "directory.EsaAreaRecorded", org, area["esa_code"], dict(area), day)
    for cluster in master.clusters:
        province = province_of[cluster["esa_code"]]
        payload = {**cluster, "province_code": province, "models": cluster["models"].split(";")}
        org = {
            "school_code": None,
            "cluster_id": cluster["cluster_id"],
            "esa_code": cluster["esa_code"],
            "province_code": province,
        }
        b.emit(topic, "directory.ClusterRecorded", org, cluster["cluster_id"], payload, day)
    for school in master.schools:
        payload = {**school, "cluster_id": school["cluster_id"] or None}
        b.emit(topic, "directory.SchoolRecorded", school_org(school), school["school_code"], payload, day)


# --- a school year of activity -------------------------------------------------------------------------------


@dataclass
class Year:
    """What stories draw on: the schools (weighted by teachers), each semester's dates and programmes."""

    schools: list[dict[str, Any]]
    cum_weights: list[int]
    by_cluster: dict[str, list[dict[str, Any]]]
    esa_province: dict[str, str]
    days: dict[int, tuple[date, int]]  # semester -> (first day, length in days)
    programmes: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    boards: dict[str, str] = field(default_factory=dict)  # school -> its board's committee id

    def period(self, semester: int) -> dict[str, int]:
        return {"academic_year": YEAR, "semester": semester}

    def day(self, rng: random.Random, semester: int, after: date | None = None, within: int = 30) -> date:
        first, length = self.days[semester]
        last = first + timedelta(days=length - 1)
        if after is not None:
            return min(last, after + timedelta(days=rng.randint(1, within)))
        return first + timedelta(days=rng.randrange(max(1, length - 30)))


def _year(master: directory_generator.DataSet) -> Year:
    spans = {t.period.semester: t for t in terms() if t.period.academic_year == YEAR}
    cum, total = [], 0
    for school in master.schools:
        total += school["teachers"]
        cum.append(total)
    clusters: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for school in master.schools:
        clusters[school["cluster_id"]].append(school)
    return Year(
        master.schools,
        cum,
        clusters,
        {a["esa_code"]: a["province_code"] for a in master.esa_areas},
        {s: (t.start, (t.end - t.start).days + 1) for s, t in spans.items()},
    )


def _teacher(rng: random.Random, school: dict[str, Any]) -> str:
    return f"T{school['school_code']}-{rng.randint(1, school['teachers']):02d}"


def _visit(b: Builder, y: Year, school: dict[str, Any], semester: int, n: int) -> None:
    topic, rng, org, period = TOPICS["supervision"], b.rng, school_org(school), y.period(semester)
    code, visit_id = school["school_code"], f"V{n}"
    mode = rng.choice(("onsite", "onsite", "online"))
    planned = y.day(rng, semester)
    base = {"visit_id": visit_id, "school_code": code, "period": period}
    b.emit(
        topic,
        "supervision.VisitScheduled",
        org,
        visit_id,
        {
            **base,
            "supervisor_id": f"S-{school['esa_code']}",
            "scheduled_date": planned.isoformat(),
            "mode": mode,
        },
        planned,
    )
    if rng.random() < 0.12:
        b.emit(
            topic, "supervision.VisitCancelled", org, visit_id, {**base, "reason": "school event"}, planned
        )
        return
    done = y.day(rng, semester, planned, 14)
    scores = {d: float(rng.randint(1, 4)) for d in rng.sample(RUBRIC_DOMAINS, rng.randint(2, 5))}
    observed = [_teacher(rng, school) for _ in range(rng.randint(1, 3))]
    b.emit(
        topic,
        "supervision.VisitCompleted",
        org,
        visit_id,
        {
            **base,
            "visit_date": done.isoformat(),
            "mode": mode,
            "rubric_scores": scores,
            "teachers_observed": observed,
        },
        done,
    )
    if rng.random() < 0.45:
        _finding(b, y, school, semester, visit_id, done)


def _finding(b: Builder, y: Year, school: dict[str, Any], semester: int, visit_id: str, day: date) -> None:
    topic, rng, org, period = TOPICS["supervision"], b.rng, school_org(school), y.period(semester)
    code, finding, follow_up = school["school_code"], f"{visit_id}-F", f"{visit_id}-U"
    domain = rng.choice(RUBRIC_DOMAINS)
    b.emit(
        topic,
        "supervision.FindingRecorded",
        org,
        finding,
        {
            "finding_id": finding,
            "visit_id": visit_id,
            "school_code": code,
            "domain": domain,
            "recommendation": "PLC on formative assessment",
            "period": period,
        },
        day,
    )
    due = day + timedelta(days=30)
    b.emit(
        topic,
        "supervision.FollowUpOpened",
        org,
        follow_up,
        {
            "follow_up_id": follow_up,
            "finding_id": finding,
            "school_code": code,
            "owner": "director",
            "due_date": due.isoformat(),
            "period": period,
        },
        day,
    )
    overdue = rng.random() < 0.2
    if overdue:
        b.emit(
            topic,
            "supervision.FollowUpOverdue",
            org,
            follow_up,
            {"follow_up_id": follow_up, "school_code": code, "due_date": due.isoformat(), "period": period},
            due,
        )
    if rng.random() < 0.75:
        end = y.day(rng, semester, due if overdue else day, 30)
        b.emit(
            topic,
            "supervision.FollowUpCompleted",
            org,
            follow_up,
            {
                "follow_up_id": follow_up,
                "school_code": code,
                "completed_date": end.isoformat(),
                "was_overdue": overdue,
                "period": period,
            },
            end,
        )


def _coaching(b: Builder, y: Year, school: dict[str, Any], semester: int, n: int) -> None:
    rng, day = b.rng, y.day(b.rng, semester)
    payload = {
        "session_id": f"CS{n}",
        "kind": rng.choice(("coaching", "mentoring")),
        "school_code": school["school_code"],
        "session_date": day.isoformat(),
        "teacher_ids": [_teacher(rng, school) for _ in range(rng.randint(1, 4))],
        "period": y.period(semester),
    }
    # v2 names the session's length `duration_minutes` (v1: `minutes`)
    length = "duration_minutes" if latest_version("supervision.CoachingSessionRecorded") > 1 else "minutes"
    payload[length] = rng.choice((45, 60, 90))
    b.emit(
        TOPICS["supervision"],
        "supervision.CoachingSessionRecorded",
        school_org(school),
        f"CS{n}",
        payload,
        day,
    )


def _plc(b: Builder, y: Year, school: dict[str, Any], semester: int, n: int) -> None:
    rng, day = b.rng, y.day(b.rng, semester)
    members = y.by_cluster[school["cluster_id"]]
    chosen = rng.sample(members, min(len(members), rng.randint(3, 6)))
    org = {**school_org(school), "school_code": None}
    payload = {
        "session_id": f"PLC{n}",
        "cluster_id": school["cluster_id"],
        "school_codes": [s["school_code"] for s in chosen],
        "session_date": day.isoformat(),
        "topic": "active learning",
        "teacher_count": sum(rng.randint(1, 3) for _ in chosen),
        "period": y.period(semester),
    }
    b.emit(TOPICS["supervision"], "supervision.PlcSessionRecorded", org, f"PLC{n}", payload, day)


def _programmes(b: Builder, y: Year, esa: str, semester: int) -> list[dict[str, Any]]:
    """An ESA area's programmes of a semester, created (with their sessions) the first time one is needed."""
    if (esa, semester) in y.programmes:
        return y.programmes[(esa, semester)]
    topic, rng, period = TOPICS["training"], b.rng, y.period(semester)
    org = {"school_code": None, "cluster_id": None, "esa_code": esa, "province_code": y.esa_province[esa]}
    made = []
    for n in range(1, rng.randint(2, 4) + 1):
        pid, start = f"P{esa}-{YEAR}{semester}-{n}", y.day(rng, semester)
        hours = float(rng.choice((6, 12, 18)))
        b.emit(
            topic,
            "training.ProgrammeCreated",
            org,
            pid,
            {
                "programme_id": pid,
                "title_th": f"หลักสูตรพัฒนาครู {n}",
                "title_en": f"Teacher development {n}",
                "competency_area": "pedagogy",
                "host_level": "esa",
                "host_code": esa,
                "credited_hours": hours,
                "period": period,
            },
            start,
        )
        sessions = []
        for s in range(1, rng.randint(2, 4) + 1):
            sid, day, mode = (
                f"{pid}-S{s}",
                y.day(rng, semester, start, 60),
                rng.choice(("onsite", "online", "hybrid")),
            )
            b.emit(
                topic,
                "training.SessionScheduled",
                org,
                pid,
                {
                    "programme_id": pid,
                    "session_id": sid,
                    "mode": mode,
                    "session_date": day.isoformat(),
                    "start_time": "09:00",
                    "end_time": "12:00",
                    "minutes": 180,
                    "period": period,
                },
                start,
            )
            sessions.append({"id": sid, "date": day})
        made.append({"id": pid, "org": org, "hours": hours, "sessions": sessions, "start": start})
    y.programmes[(esa, semester)] = made
    return made


def _enrolment(b: Builder, y: Year, school: dict[str, Any], semester: int, n: int) -> None:
    topic, rng, period = TOPICS["training"], b.rng, y.period(semester)
    programme = rng.choice(_programmes(b, y, school["esa_code"], semester))
    pid, org, teacher, mode = (
        programme["id"],
        programme["org"],
        _teacher(rng, school),
        rng.choice(("onsite", "online")),
    )
    base = {
        "programme_id": pid,
        "teacher_id": teacher,
        "school_code": school["school_code"],
        "period": period,
    }
    waitlisted = rng.random() < 0.08
    b.emit(
        topic,
        "training.EnrolmentCreated",
        org,
        pid,
        {**base, "mode": mode, "status": "waitlisted" if waitlisted else "enrolled"},
        programme["start"],
    )
    if waitlisted:
        if rng.random() < 0.5:
            b.emit(topic, "training.SeatOffered", org, pid, {**base, "mode": mode}, programme["start"])
        return
    attended = [s for s in programme["sessions"] if rng.random() < 0.85]
    for session in attended:
        minutes = rng.choice((150, 180))
        b.emit(
            topic,
            "training.AttendanceRecorded",
            org,
            pid,
            {
                **base,
                "session_id": session["id"],
                "session_date": session["date"].isoformat(),
                "mode": mode,
                "minutes": minutes,
                "credited_minutes": minutes,
            },
            session["date"],
        )
    share = len(attended) / len(programme["sessions"])
    if share >= 0.8:
        last = max(s["date"] for s in programme["sessions"])
        b.emit(
            topic,
            "training.CompletionAchieved",
            org,
            pid,
            {
                **base,
                "hours_credited": programme["hours"],
                "attendance_share": round(share, 4),
                "assessment_score": None,
            },
            last,
        )
    elif rng.random() < 0.3:
        b.emit(
            topic,
            "training.EnrolmentWithdrawn",
            org,
            pid,
            {**base, "previous_status": "enrolled"},
            programme["start"],
        )


def _board(b: Builder, y: Year, school: dict[str, Any]) -> str:
    """A school's board, established (with its members) the first time it meets."""
    code = school["school_code"]
    if code in y.boards:
        return y.boards[code]
    topic, rng, org, period = TOPICS["committee"], b.rng, school_org(school), y.period(1)
    cid, day = f"B{code}", y.day(b.rng, 1)
    seats = 15 if school["students"] > 300 else 9
    b.emit(
        topic,
        "committee.CommitteeEstablished",
        org,
        cid,
        {
            "committee_id": cid,
            "kind": "school_board",
            "name_th": f"คณะกรรมการสถานศึกษา {code}",
            "name_en": f"School board {code}",
            "school_code": code,
            "cluster_id": school["cluster_id"],
            "seats": seats,
            "established_date": day.isoformat(),
            "period": period,
        },
        day,
    )
    for m, (group, _) in enumerate(_seats(rng, seats)):
        b.emit(
            topic,
            "committee.MemberAppointed",
            org,
            cid,
            {
                "committee_id": cid,
                "member_id": f"{cid}-M{m}",
                "stakeholder_group": group,
                "role": "chair" if m == 0 else "member",
                "term_start": day.isoformat(),
                "term_end": (day + timedelta(days=4 * 365)).isoformat(),
                "period": period,
            },
            day,
        )
    y.boards[code] = cid
    return cid


def _seats(rng: random.Random, seats: int) -> list[tuple[str, int]]:
    groups = [g for g, w in STAKEHOLDERS for _ in range(w)]
    return [(rng.choice(groups), i) for i in range(seats)]


def _meeting(b: Builder, y: Year, school: dict[str, Any], semester: int, n: int) -> None:
    cid = _board(b, y, school)
    topic, rng, org, period = TOPICS["committee"], b.rng, school_org(school), y.period(semester)
    mid, day = f"M{n}", y.day(rng, semester)
    b.emit(
        topic,
        "committee.MeetingScheduled",
        org,
        cid,
        {
            "meeting_id": mid,
            "committee_id": cid,
            "meeting_date": day.isoformat(),
            "agenda": ["budget", "learning"],
            "period": period,
        },
        day,
    )
    if rng.random() < 0.08:
        b.emit(
            topic,
            "committee.MeetingCancelled",
            org,
            cid,
            {"meeting_id": mid, "committee_id": cid, "meeting_date": day.isoformat(), "period": period},
            day,
        )
        return
    seats = _seats(rng, 15 if school["students"] > 300 else 9)
    rows = [
        {
            "member_id": f"{cid}-M{i}",
            "stakeholder_group": g,
            "status": rng.choices(("present", "absent", "excused"), (8, 1, 1))[0],
        }
        for g, i in seats
    ]
    present = sum(1 for r in rows if r["status"] == "present")
    needed = len(rows) // 2 + 1
    b.emit(
        topic,
        "committee.MeetingHeld",
        org,
        cid,
        {
            "meeting_id": mid,
            "committee_id": cid,
            "committee_kind": "school_board",
            "meeting_date": day.isoformat(),
            "members_total": len(rows),
            "quorum_required": needed,
            "quorum_reached": present >= needed,
            "attendance": rows,
            "period": period,
        },
        day,
    )
    b.emit(
        topic,
        "committee.MinutesRecorded",
        org,
        cid,
        {"meeting_id": mid, "committee_id": cid, "recorded_date": day.isoformat(), "period": period},
        day,
    )
    if present >= needed and rng.random() < 0.6:
        _resolution(b, y, school, semester, cid, mid, day)


def _resolution(
    b: Builder, y: Year, school: dict[str, Any], semester: int, cid: str, mid: str, day: date
) -> None:
    topic, rng, org, period = TOPICS["committee"], b.rng, school_org(school), y.period(semester)
    rid, aid, due = f"{mid}-R", f"{mid}-A", day + timedelta(days=45)
    b.emit(
        topic,
        "committee.ResolutionAdopted",
        org,
        cid,
        {
            "resolution_id": rid,
            "meeting_id": mid,
            "committee_id": cid,
            "adopted_date": day.isoformat(),
            "title": "ปรับปรุงห้องสมุด",
            "period": period,
        },
        day,
    )
    b.emit(
        topic,
        "committee.ActionItemCreated",
        org,
        cid,
        {
            "action_item_id": aid,
            "resolution_id": rid,
            "committee_id": cid,
            "owner_kind": "school",
            "owner_id": school["school_code"],
            "due_date": due.isoformat(),
            "period": period,
        },
        day,
    )
    overdue = rng.random() < 0.25
    if overdue:
        b.emit(
            topic,
            "committee.ActionItemOverdue",
            org,
            cid,
            {"action_item_id": aid, "committee_id": cid, "due_date": due.isoformat(), "period": period},
            due,
        )
    if rng.random() < 0.6:
        end = due + timedelta(days=rng.randint(-30, 20))
        b.emit(
            topic,
            "committee.ActionItemCompleted",
            org,
            cid,
            {
                "action_item_id": aid,
                "committee_id": cid,
                "completed_date": end.isoformat(),
                "was_overdue": overdue,
                "period": period,
            },
            end,
        )


Story = Callable[[Builder, Year, dict[str, Any], int, int], None]
STORIES: dict[str, tuple[tuple[Story, float], ...]] = {
    "supervision": ((_visit, 0.7), (_coaching, 0.25), (_plc, 0.05)),
    "training": ((_enrolment, 1.0),),
    "committee": ((_meeting, 1.0),),
}


def _activity(b: Builder, y: Year, events: int, advance: Callable[[int], None]) -> None:
    """Stories until `events` activity events exist, each model keeping its share."""
    stories = [(model, story) for model, table in STORIES.items() for story, _ in table]
    weights = [MODEL_SHARE[model] * w for model, table in STORIES.items() for _, w in table]
    counts = {model: 0 for model in MODEL_SHARE}
    topic_of = {
        "supervision": TOPICS["supervision"],
        "training": TOPICS["training"],
        "committee": TOPICS["committee"],
    }
    made, n = 0, 0
    while made < events:
        model, story = b.rng.choices(stories, weights)[0]
        if counts[model] > MODEL_SHARE[model] * events * 1.02:
            continue  # a model whose events ran ahead of its share (long stories) waits
        school = b.rng.choices(y.schools, cum_weights=y.cum_weights)[0]
        before = len(b.data.records[topic_of[model]])
        n += 1
        story(b, y, school, 1 + (n % 2), n)
        grown = len(b.data.records[topic_of[model]]) - before
        counts[model] += grown
        made += grown
        advance(grown)


# --- results -------------------------------------------------------------------------------------------------


def _results(b: Builder, master: directory_generator.DataSet, advance: Callable[[int], None]) -> None:
    level = {a["esa_code"]: a["level"] for a in master.esa_areas}
    by_code = {s["school_code"]: s for s in master.schools}
    schools = [
        achievement_generator.DemoSchool(s["school_code"], s["esa_code"], level[s["esa_code"]], s["students"])
        for s in master.schools
    ]
    day = date(2026, 3, 20)
    for row in achievement_generator.generate(schools, year=YEAR, seed=SEED):
        school = by_code[row["school_code"]]
        rid = result_id(row["test"], YEAR, row["school_code"], row["subject"], row["grade"])
        bands = [
            {"band": k[len(BAND_PREFIX) :], "students": v}
            for k, v in row.items()
            if k.startswith(BAND_PREFIX)
        ]
        payload = {
            "result_id": rid,
            **{
                k: row[k]
                for k in ("test", "academic_year", "school_code", "subject", "grade", "mean", "tested")
            },
            "replaces": None,
            "period": {"academic_year": YEAR, "semester": 2},
        }
        if bands:
            payload["distribution"] = bands
        b.emit(TOPICS["achievement"], "achievement.ResultRecorded", school_org(school), rid, payload, day)
        advance(1)


# --- the whole set -------------------------------------------------------------------------------------------


def build(ctx: Bench, seed: int = SEED) -> DataSet:
    """The data set of the run's scale (cached in `ctx.shared`)."""
    if "dataset" in ctx.shared:
        return ctx.shared["dataset"]
    scale = ctx.scale
    with ctx.progress("directory (generator)", None):
        master = directory_generator.generate(schools=scale.schools, seed=seed)
    data = DataSet(len(master.schools), master.teacher_count())
    b = Builder(data, seed)
    _directory(b, master)
    with ctx.progress("activity events", scale.events) as advance:
        _activity(b, _year(master), scale.events, advance)
    if scale.achievement_rows:
        with ctx.progress("achievement results", None) as advance:
            _results(b, master, advance)
    verify_sample(data)
    ctx.shared["dataset"], ctx.shared["master"] = data, master
    ctx.say(
        f"data set: {data.schools:,} schools, {data.teachers:,} teachers, {data.count():,} events "
        + ", ".join(f"{t} {len(data.records[t]):,}" for t in PROJECTED_TOPICS)
    )
    return data


def verify_sample(data: DataSet, per_type: int = 50) -> None:
    """Decode the first records of every event type through the catalog: the builder keeps the contracts."""
    seen: dict[str, int] = defaultdict(int)
    for records in data.records.values():
        for _, value in records:
            event_type = json.loads(value)["event_type"]
            if seen[event_type] < per_type:
                catalog.decode(value)
                seen[event_type] += 1


def produce(ctx: Bench, data: DataSet) -> None:
    """Publish every record once per run (batched, no per-record wait); later calls do nothing.

    The log's end offsets are taken from the broker's acknowledgements (`ctx.shared["log_ends"]`), not asked
    of it afterwards: tansu answers `end_offsets` with the last batch's base offset + 1."""
    if ctx.shared.get("produced"):
        return
    ends: dict[tuple[str, int], int] = defaultdict(int)

    def acknowledged(sent: RecordMetadata) -> None:  # the producer's I/O thread; one writer per partition
        ends[sent.topic, sent.partition] = max(ends[sent.topic, sent.partition], sent.offset + 1)

    producer = KafkaProducer(
        bootstrap_servers=ctx.settings.kafka_bootstrap,
        acks=1,
        linger_ms=20,
        batch_size=512 * 1024,
        max_request_size=4 * 1024 * 1024,
    )
    try:
        with ctx.progress("producing to the broker", data.count()) as advance:
            for topic in PROJECTED_TOPICS:
                for i, (key, value) in enumerate(data.records[topic], start=1):
                    producer.send(topic, key=key, value=value).add_callback(acknowledged)
                    if i % 5000 == 0:
                        advance(5000)
                producer.flush()
                advance(len(data.records[topic]) % 5000)
    finally:
        producer.close()
    if sum(ends.values()) != data.count():
        raise RuntimeError(f"the broker acknowledged {sum(ends.values()):,} of {data.count():,} records")
    ctx.shared["log_ends"], ctx.shared["produced"] = dict(ends), True


def iter_decoded(data: DataSet, topics: tuple[str, ...] = PROJECTED_TOPICS) -> Iterator[dict[str, Any]]:
    for topic in topics:
        for _, value in data.records[topic]:
            yield catalog.decode(value)


def academic_period(semester: int) -> Period:
    return Period(YEAR, semester)
