"""A second, independent computation of the monitoring views' figures, for the reliability tests.

The projector folds events into view counters; this recomputes the same counters another way, with plain
queries and loops, and never calls the folds, the catalog or the view helpers:

- `from_supervision_db`, `from_training_db`, `from_committee_db`: from a source service's own database, the
  entities as they stand now;
- `from_events`: the supervision figures from a list of events as they were produced (wire bytes, v1 and v2),
  duplicates dropped by event id.

Each rolls a school's figures up school → cluster → ESA area → province → nation through a `Directory` (the
directory's `schools` and `clusters` collections, or a service's local copy of them, or master data the test
defined), not through the org path the events carry. `assert_views_match` compares one section of every live
`views` document with them, exactly, for every unit and period present on either side; a counter at zero counts as
absent (a view keeps an opened-then-closed tally at 0). Means, shares and coverage are derived on read from these
counters, so they are covered through them.

Coverage, every counter of each section:
- `supervision`: visits_planned, visits_done, visits_onsite/online, visits_cancelled, teachers_observed,
  schools_visited, rubric.<domain>.sum/count, last_visit_date, coaching_/mentoring_sessions and _minutes,
  plc_sessions, plc_teachers, plans, schools_targeted, findings, follow_ups_opened/open/overdue/completed;
- `training`: programmes, sessions_scheduled, sessions_<mode>, sessions_cancelled, enrolments, enrolments_<mode>,
  waitlisted, withdrawals, teachers_enrolled, attendance_records_<mode>, completions, pd_hours, teachers_completed,
  teachers_meeting_target;
- `committee`: committees_established, members_appointed, member_terms_ended, meetings_scheduled, meetings_held,
  meetings_with_quorum, attendance.<group>.<status>, committees_met, last_meeting_date, meetings_cancelled,
  minutes_recorded, resolutions_adopted, action_items_created/open/overdue/done, action_item_progress_notes.
Not covered: the `achievement` section, the `units` documents (org tree, committee activity buckets, latest visit)
and the school activity lists. Where an entity's state cannot tell its history, the functions below say what they
assume (e.g. minutes recorded once per meeting).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pymongo.database import Database

from services.monitoring.views import add_shard
from shared.calendar import period_of
from shared.targets import pd_hours_target

SECTION = "supervision"
NATIONAL = ("national", "TH")

Unit = tuple[str, str]  # (level, code)
ViewId = tuple[str, str, int, int]  # (level, code, academic year, semester)
Figures = dict[ViewId, dict[str, Any]]


@dataclass
class Directory:
    """Master data: each school's and cluster's place in the org tree."""

    # school code -> {cluster_id, esa_code, province_code}; cluster id -> {esa_code, province_code}
    schools: dict[str, dict[str, Any]]
    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_db(cls, db: Database) -> Directory:
        """From a `schools` and `clusters` collection: the directory's own, or a service's local copy."""
        schools = {doc["_id"]: doc["org"] for doc in db["schools"].find({}, {"org": 1})}
        clusters = {doc["_id"]: doc["org"] for doc in db["clusters"].find({}, {"org": 1})}
        return cls(schools, clusters)

    @classmethod
    def from_events(cls, raws: Iterable[bytes]) -> Directory:
        directory = cls({})
        for event in map(json.loads, raws):
            p = event["payload"]
            if event["event_type"] == "directory.SchoolRecorded":
                directory.schools[p["school_code"]] = p
            elif event["event_type"] == "directory.ClusterRecorded":
                directory.clusters[p["cluster_id"]] = p
        return directory

    def province_of(self, esa_code: str) -> str:
        for org in (*self.clusters.values(), *self.schools.values()):
            if org["esa_code"] == esa_code:
                return str(org["province_code"])
        raise KeyError(f"ESA area {esa_code} is not in the directory")

    def esa_up(self, esa_code: str) -> list[Unit]:
        return [("esa", esa_code), ("province", self.province_of(esa_code)), NATIONAL]

    def cluster_up(self, cluster_id: str) -> list[Unit]:
        return [("cluster", cluster_id), *self.esa_up(self.clusters[cluster_id]["esa_code"])]

    def school_up(self, school_code: str) -> list[Unit]:
        org = self.schools[school_code]  # an unknown school is an error: the oracle never guesses
        above = self.cluster_up(org["cluster_id"]) if org.get("cluster_id") else self.esa_up(org["esa_code"])
        return [("school", school_code), *above]


class Tally:
    """Counters per view, added to every unit on a path."""

    def __init__(self) -> None:
        self.figures: Figures = defaultdict(dict)
        self.seen: set[tuple[str, str, int, int]] = set()

    def add(self, units: list[Unit], period: dict[str, int], counts: dict[str, float]) -> None:
        for level, code in units:
            row = self.figures[(level, code, period["academic_year"], period["semester"])]
            for name, value in counts.items():
                row[name] = row.get(name, 0) + value

    def distinct(self, what: tuple[str, str], units: list[Unit], period: dict[str, int], name: str) -> None:
        """Count `what` (e.g. a teacher enrolled) once per semester, however often it recurs."""
        key = (*what, period["academic_year"], period["semester"])
        if key not in self.seen:
            self.seen.add(key)
            self.add(units, period, {name: 1})

    def latest(self, units: list[Unit], period: dict[str, int], name: str, value: str) -> None:
        for level, code in units:
            row = self.figures[(level, code, period["academic_year"], period["semester"])]
            row[name] = max(row.get(name, value), value)


def _period(day: str) -> dict[str, int]:
    period = period_of(date.fromisoformat(day))
    return {"academic_year": period.academic_year, "semester": period.semester}


def _completed_visit(mode: str, scores: dict[str, float], observed: int) -> dict[str, float]:
    counts: dict[str, float] = {"visits_done": 1, f"visits_{mode}": 1, "teachers_observed": observed}
    for domain, score in scores.items():
        counts[f"rubric.{domain}.sum"] = score
        counts[f"rubric.{domain}.count"] = 1
    return counts


def _follow_up(status: str) -> dict[str, float]:
    """A follow-up's counters from its status now: opened once, then open, overdue or completed."""
    return {
        "follow_ups_opened": 1,
        "follow_ups_open": int(status in ("open", "overdue")),
        "follow_ups_overdue": int(status == "overdue"),
        "follow_ups_completed": int(status == "completed"),
    }


# --- from the supervision service's database ----------------------------------------------------------------


def from_supervision_db(db: Database, directory: Directory) -> Figures:
    """The `supervision` section: plans, visits, coaching and PLC sessions, findings and follow-ups as they stand."""
    tally = Tally()
    for plan in db["plans"].find():
        counts = {"plans": 1, "schools_targeted": len(plan["target_school_codes"])}
        tally.add(directory.esa_up(plan["esa_code"]), plan["period"], counts)
    for visit in db["visits"].find():
        _visit_from_db(tally, directory, visit)
    for session in db["coaching_sessions"].find():
        counts = {f"{session['kind']}_sessions": 1, f"{session['kind']}_minutes": session["minutes"]}
        tally.add(directory.school_up(session["school_code"]), session["period"], counts)
    for session in db["plc_sessions"].find():
        _plc(
            tally,
            directory,
            session["cluster_id"],
            session["school_codes"],
            len(session["teacher_ids"]),
            session["period"],
        )
    for finding in db["findings"].find():
        tally.add(directory.school_up(finding["school_code"]), finding["period"], {"findings": 1})
    for follow_up in db["follow_ups"].find():
        tally.add(
            directory.school_up(follow_up["school_code"]),
            follow_up["period"],
            _follow_up(follow_up["status"]),
        )
    return tally.figures


def _visit_from_db(tally: Tally, directory: Directory, visit: dict[str, Any]) -> None:
    """Planned in the semester of the day it was scheduled for; done or cancelled in the visit's semester."""
    units = directory.school_up(visit["school_code"])
    tally.add(units, _period(visit["scheduled_date"]), {"visits_planned": 1})
    if visit["status"] == "cancelled":
        tally.add(units, visit["period"], {"visits_cancelled": 1})
    elif visit["status"] == "completed":
        counts = _completed_visit(visit["mode"], visit["rubric_scores"], len(visit["teachers_observed"]))
        tally.add(units, visit["period"], counts)
        tally.latest(units, visit["period"], "last_visit_date", visit["visit_date"])
        tally.distinct(("visited", visit["school_code"]), units, visit["period"], "schools_visited")


def _plc(
    tally: Tally,
    directory: Directory,
    cluster_id: str,
    schools: list[str],
    teachers: int,
    period: dict[str, int],
) -> None:
    """A PLC session counts for its cluster and above, and for each of its schools alone (not twice above)."""
    tally.add(directory.cluster_up(cluster_id), period, {"plc_sessions": 1, "plc_teachers": teachers})
    for school_code in schools:
        tally.add([("school", school_code)], period, {"plc_sessions": 1})


# --- committee, from the committee service's database -------------------------------------------------------


def from_committee_db(db: Database, directory: Directory) -> Figures:
    """The `committee` section: each committee, member, meeting, resolution and action item as it stands now.

    Counted as the events announced them: a member in the semester their term starts (and ends, if ended early),
    a meeting, its resolutions and their action items in the meeting's semester. Two things the state cannot tell
    are assumed away: minutes recorded once per meeting, and no action item completed with a closing note (that
    note is stored with the progress notes but announced only as the completion)."""
    tally = Tally()
    committees = {c["_id"]: c for c in db["committees"].find()}
    up = {cid: _committee_up(directory, c) for cid, c in committees.items()}
    for cid, committee in committees.items():
        tally.add(up[cid], committee["period"], {"committees_established": 1})
        for member in committee["members"]:
            tally.add(up[cid], _period(member["term_start"]), {"members_appointed": 1})
            if member["ended_early"]:
                tally.add(up[cid], _period(member["term_end"]), {"member_terms_ended": 1})
    for meeting in db["meetings"].find():
        units = up[meeting["committee_id"]]
        _meeting(tally, units, meeting)
        if meeting["status"] == "held":
            tally.distinct(("met", meeting["committee_id"]), units, meeting["period"], "committees_met")
    for resolution in db["resolutions"].find():
        tally.add(up[resolution["committee_id"]], resolution["period"], {"resolutions_adopted": 1})
    for item in db["action_items"].find():
        tally.add(up[item["committee_id"]], item["period"], _action_item(item))
    return tally.figures


def _committee_up(directory: Directory, committee: dict[str, Any]) -> list[Unit]:
    """A school board counts for its school and above; a network committee for its cluster and above."""
    if committee["kind"] == "school_board":
        return directory.school_up(committee["school_code"])
    return directory.cluster_up(committee["cluster_id"])


def _meeting(tally: Tally, units: list[Unit], meeting: dict[str, Any]) -> None:
    period = meeting["period"]
    counts: dict[str, float] = {"meetings_scheduled": 1}
    if meeting["status"] == "cancelled":
        counts["meetings_cancelled"] = 1
    if meeting["status"] == "held":
        counts.update(meetings_held=1, meetings_with_quorum=int(meeting["quorum_reached"]))
        for person in meeting["attendance"]:
            key = f"attendance.{person['stakeholder_group']}.{person['status']}"
            counts[key] = counts.get(key, 0) + 1
        tally.latest(units, period, "last_meeting_date", meeting["meeting_date"])
    if meeting.get("minutes_recorded_date"):
        counts["minutes_recorded"] = 1
    tally.add(units, period, counts)


def _action_item(item: dict[str, Any]) -> dict[str, float]:
    return {
        "action_items_created": 1,
        "action_items_open": int(item["status"] in ("open", "overdue")),
        "action_items_overdue": int(item["status"] == "overdue"),
        "action_items_done": int(item["status"] == "done"),
        "action_item_progress_notes": len(item["notes"]),
    }


# --- training, from the training service's database ---------------------------------------------------------


def from_training_db(db: Database, directory: Directory) -> Figures:
    """The `training` section: programmes with their sessions and roster, attendance and completions as they stand.

    A programme and its sessions count for the host (an ESA area or a cluster) and above; a teacher's enrolment,
    attendance and completion for the teacher's school and above. Enrolments count in the programme's semester,
    sessions and attendance in the session's, a completion in that of the programme's last session. Assumed, as
    the state cannot tell: a withdrawn teacher had a seat (not a waitlist place), no session moved to another
    semester, no attendance corrected to other minutes."""
    tally = Tally()
    for programme in db["programmes"].find():
        _programme(tally, directory, programme)
    for attendance in db["attendance"].find():
        units = directory.school_up(attendance["school_code"])
        for mode in attendance["minutes_by_mode"]:
            tally.add(units, attendance["period"], {f"attendance_records_{mode}": 1})
    _completions(tally, directory, list(db["completions"].find().sort([("completed_on", 1), ("_id", 1)])))
    return tally.figures


def _programme(tally: Tally, directory: Directory, programme: dict[str, Any]) -> None:
    host = programme["host_code"]
    units = directory.esa_up(host) if programme["host_level"] == "esa" else directory.cluster_up(host)
    tally.add(units, programme["period"], {"programmes": 1})
    for session in programme["sessions"]:
        tally.add(units, session["period"], {"sessions_scheduled": 1, f"sessions_{session['mode']}": 1})
        if session["status"] == "cancelled":
            tally.add(units, session["period"], {"sessions_cancelled": 1})
    enrolled: set[tuple[str, str]] = set()
    for enrolment in programme["enrolments"]:
        school = directory.school_up(enrolment["school_code"])
        status = enrolment["status"]
        counts = {"waitlisted": 1} if status == "waitlisted" else {f"enrolments_{enrolment['mode']}": 1}
        if status == "enrolled":
            counts["enrolments"] = 1
        if status == "withdrawn":
            counts["withdrawals"] = 1
        if status != "waitlisted":
            enrolled.add((enrolment["teacher_id"], enrolment["school_code"]))
        tally.add(school, programme["period"], counts)
    for teacher, school_code in sorted(enrolled):
        tally.distinct(
            ("enrolled", teacher), directory.school_up(school_code), programme["period"], "teachers_enrolled"
        )


def _completions(tally: Tally, directory: Directory, completions: list[dict[str, Any]]) -> None:
    """In the order they were reached: the one that takes a teacher to the year's PD-hours target counts it."""
    hours: dict[tuple[str, int], float] = {}
    for completion in completions:
        units, period = directory.school_up(completion["school_code"]), completion["period"]
        credited = completion["hours_credited"]
        counts = {"completions": 1, "pd_hours": credited}
        year = (completion["teacher_id"], period["academic_year"])
        before, target = hours.get(year, 0.0), pd_hours_target(period["academic_year"])
        if before < target <= before + credited:
            counts["teachers_meeting_target"] = 1
        hours[year] = before + credited
        tally.add(units, period, counts)
        tally.distinct(("completed", completion["teacher_id"]), units, period, "teachers_completed")


# --- from the events as produced ----------------------------------------------------------------------------


def from_events(raws: Iterable[bytes], directory: Directory) -> Figures:
    """Each distinct event once (by id), in order; a follow-up's last event decides its status."""
    tally = Tally()
    follow_ups: dict[str, tuple[str, dict[str, int], str]] = {}
    seen: set[str] = set()
    for event in map(json.loads, raws):
        if event["event_id"] in seen or not event["event_type"].startswith("supervision."):
            continue
        seen.add(event["event_id"])
        _supervision_event(tally, directory, event, follow_ups)
    for school_code, period, status in follow_ups.values():
        tally.add(directory.school_up(school_code), period, _follow_up(status))
    return tally.figures


def _supervision_event(
    tally: Tally,
    directory: Directory,
    event: dict[str, Any],
    follow_ups: dict[str, tuple[str, dict[str, int], str]],
) -> None:
    name, p = event["event_type"].removeprefix("supervision."), event["payload"]
    period = p["period"]
    if name == "PlanCreated":
        tally.add(
            directory.esa_up(event["org"]["esa_code"]),
            period,
            {"plans": 1, "schools_targeted": len(p["target_school_codes"])},
        )
    elif name == "PlcSessionRecorded":
        _plc(tally, directory, p["cluster_id"], p["school_codes"], p["teacher_count"], period)
    elif name.startswith("FollowUp"):
        status = {"FollowUpOpened": "open", "FollowUpOverdue": "overdue"}.get(name, "completed")
        follow_ups[p["follow_up_id"]] = (p["school_code"], period, status)
    else:
        _school_event(tally, directory.school_up(p["school_code"]), event)


def _school_event(tally: Tally, units: list[Unit], event: dict[str, Any]) -> None:
    name, p = event["event_type"].removeprefix("supervision."), event["payload"]
    period = p["period"]
    if name == "VisitScheduled":
        tally.add(units, period, {"visits_planned": 1})
    elif name == "VisitCancelled":
        tally.add(units, period, {"visits_cancelled": 1})
    elif name == "VisitCompleted":
        tally.add(units, period, _completed_visit(p["mode"], p["rubric_scores"], len(p["teachers_observed"])))
        tally.latest(units, period, "last_visit_date", p["visit_date"])
        tally.distinct(("visited", p["school_code"]), units, period, "schools_visited")
    elif name == "CoachingSessionRecorded":
        # v1 said `minutes`, v2 `duration_minutes`: the same figure, the length of the session
        minutes = p["minutes"] if event["event_version"] == 1 else p["duration_minutes"]
        tally.add(units, period, {f"{p['kind']}_sessions": 1, f"{p['kind']}_minutes": minutes})
    elif name == "FindingRecorded":
        tally.add(units, period, {"findings": 1})


# --- the comparison -----------------------------------------------------------------------------------------


def _flatten(section: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in section.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def _significant(row: dict[str, Any]) -> dict[str, Any]:
    """Zero counters dropped; sums of scores compared to the micro-point."""
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in row.items() if v != 0}


def live(db: Database, section: str = SECTION) -> Figures:
    """One section of every live view, keyed by the view's own level, code and period fields (a province's
    or the nation's shards added up, as the readers do)."""
    sections: dict[tuple[str, str, int, int], dict[str, Any]] = {}
    for doc in db["views"].find({}, {"level": 1, "code": 1, "period": 1, section: 1}):
        period = doc["period"]
        key = (doc["level"], doc["code"], period["academic_year"], period["semester"])
        add_shard(sections.setdefault(key, {}), {section: doc.get(section, {})})
    figures: Figures = {}
    for key, merged in sections.items():
        if row := _significant(_flatten(merged[section])):
            figures[key] = row
    return figures


def differences(expected: Figures, actual: Figures) -> list[str]:
    """One line per view whose figures differ (or that only one side has)."""
    wanted, got = _nonzero(expected), _nonzero(actual)
    return [
        f"{view}: expected {wanted.get(view)}, live {got.get(view)}"
        for view in sorted(wanted.keys() | got.keys())
        if wanted.get(view) != got.get(view)
    ]


def _nonzero(figures: Figures) -> Figures:
    return {view: row for view, rows in figures.items() if (row := _significant(rows))}


def assert_views_match(expected: Figures, db: Database, section: str = SECTION) -> int:
    """Every live view's figures of `section` equal the oracle's, and no view is missing or extra; returns
    how many views were compared."""
    actual = live(db, section)
    wrong = differences(expected, actual)
    assert not wrong, f"{len(wrong)} {section} views differ from the oracle, e.g.:\n" + "\n".join(wrong[:5])
    assert actual, "no view to compare: the oracle would prove nothing"
    return len(actual)
