"""A school's recent activity: one `activity` document per supervision, training or committee event about it.

The document's key is the event id (a PLC session, which names several schools, writes one per school:
`<event id>:<school>`). A new entry is inserted whole; one kept already (an event applied again once its
applied record has expired) gets a `$set` of the same values, so a replay changes nothing. Titles are
bilingual and carry counts, dates and ids of objects only: never the name of a teacher, supervisor or
committee member (payload fields such as `owner` or `teacher_ids` are not read).
Training titles name the programme, from the small `activity_programmes` collection kept from
`training.ProgrammeCreated` (its id when the programme is not known yet: no ordering across aggregates).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from services.monitoring.views import UNITS, Event, ViewBatch, unit_key
from shared.calendar import THAILAND

ACTIVITY = "activity"
PROGRAMMES = "activity_programmes"  # per training programme: its Thai and English titles
NEWEST_FIRST = [("at", DESCENDING), ("occurred_at", DESCENDING)]

Titles = Callable[[str], tuple[str, str]]  # programme id -> (title_th, title_en)

MODES = {
    "onsite": ("ณ สถานที่", "on site"),
    "online": ("ออนไลน์", "online"),
    "hybrid": ("ผสมผสาน", "hybrid"),
}
SCHEDULED = ("นัดหมายแล้ว", "Scheduled")
DONE = ("เสร็จสิ้น", "Completed")
DONE_LATE = ("เสร็จล่าช้า", "Completed late")
CANCELLED = ("ยกเลิก", "Cancelled")
OPEN = ("เปิดอยู่", "Open")
OVERDUE = ("เกินกำหนด", "Overdue")


@dataclass(frozen=True)
class Entry:
    """What a school's activity list shows for one event."""

    at: str  # YYYY-MM-DD, Thai calendar
    title_th: str
    title_en: str
    status: tuple[str, str] | None = None


def thai_date(moment: datetime) -> str:
    return moment.astimezone(THAILAND).date().isoformat()


# --- titles, per event type (pure: the payload and the programme titles) ------------------------------------


def _visit_scheduled(e: Event, _: Titles) -> Entry:
    p = e["payload"]
    th, en = MODES[p["mode"]]
    return Entry(
        thai_date(e["occurred_at"]),
        f"นัดหมายการนิเทศ{th} วันที่ {p['scheduled_date']}",
        f"Supervision visit ({en}) scheduled for {p['scheduled_date']}",
        SCHEDULED,
    )


def _visit_completed(e: Event, _: Titles) -> Entry:
    p = e["payload"]
    th, en = MODES[p["mode"]]
    observed = len(p["teachers_observed"])
    return Entry(
        p["visit_date"],
        f"การนิเทศ{th} สังเกตการสอนครู {observed} คน",
        f"Supervision visit ({en}): {observed} teachers observed",
        DONE,
    )


def _visit_cancelled(e: Event, _: Titles) -> Entry:
    return Entry(thai_date(e["occurred_at"]), "ยกเลิกการนิเทศ", "Supervision visit cancelled", CANCELLED)


def _coaching(e: Event, _: Titles) -> Entry:
    p = e["payload"]
    teachers, minutes = len(p["teacher_ids"]), p["duration_minutes"]
    th, en = ("การโค้ช", "Coaching") if p["kind"] == "coaching" else ("การเป็นพี่เลี้ยง", "Mentoring")
    return Entry(
        p["session_date"],
        f"{th}: ครู {teachers} คน {minutes} นาที",
        f"{en} session: {teachers} teachers, {minutes} minutes",
    )


def _plc(e: Event, _: Titles) -> Entry:
    p = e["payload"]
    return Entry(
        p["session_date"],
        f"ชุมชนการเรียนรู้ทางวิชาชีพ (PLC) กลุ่มเครือข่าย {p['cluster_id']}: ครู {p['teacher_count']} คน",
        f"Network PLC session ({p['cluster_id']}): {p['teacher_count']} teachers",
    )


def _finding(e: Event, _: Titles) -> Entry:
    domain = e["payload"]["domain"]
    return Entry(thai_date(e["occurred_at"]), f"บันทึกข้อค้นพบ ด้าน {domain}", f"Finding recorded: {domain}")


def _follow_up_opened(e: Event, _: Titles) -> Entry:
    due = e["payload"]["due_date"]
    return Entry(
        thai_date(e["occurred_at"]),
        f"เปิดงานติดตามผล กำหนดเสร็จ {due}",
        f"Follow-up opened, due {due}",
        OPEN,
    )


def _follow_up_overdue(e: Event, _: Titles) -> Entry:
    due = e["payload"]["due_date"]
    return Entry(due, "งานติดตามผลเกินกำหนด", f"Follow-up overdue (due {due})", OVERDUE)


def _follow_up_completed(e: Event, _: Titles) -> Entry:
    p = e["payload"]
    return Entry(
        p["completed_date"],
        "งานติดตามผลเสร็จสิ้น",
        "Follow-up completed",
        DONE_LATE if p["was_overdue"] else DONE,
    )


def _enrolment(e: Event, titles: Titles) -> Entry:
    p = e["payload"]
    th, en = titles(p["programme_id"])
    mode_th, mode_en = MODES[p["mode"]]
    if e["event_type"] == "training.EnrolmentCreated" and p["status"] == "waitlisted":
        status = ("รอที่นั่ง", "Waitlisted")
    else:
        status = ("ลงทะเบียนแล้ว", "Enrolled")
    return Entry(
        thai_date(e["occurred_at"]),
        f"ครูลงทะเบียนหลักสูตร “{th}” ({mode_th})",
        f"A teacher enrolled in “{en}” ({mode_en})",
        status,
    )


def _withdrawal(e: Event, titles: Titles) -> Entry:
    th, en = titles(e["payload"]["programme_id"])
    return Entry(
        thai_date(e["occurred_at"]),
        f"ครูถอนตัวจากหลักสูตร “{th}”",
        f"A teacher withdrew from “{en}”",
        ("ถอนตัว", "Withdrawn"),
    )


def _completion(e: Event, titles: Titles) -> Entry:
    p = e["payload"]
    th, en = titles(p["programme_id"])
    hours = f"{p['hours_credited']:g}"
    return Entry(
        thai_date(e["occurred_at"]),
        f"ครูผ่านหลักสูตร “{th}” ได้ {hours} ชั่วโมงพัฒนา",
        f"A teacher completed “{en}”: {hours} PD hours",
        ("ผ่าน", "Completed"),
    )


def _established(e: Event, _: Titles) -> Entry:
    p = e["payload"]
    return Entry(
        p["established_date"],
        f"จัดตั้งคณะกรรมการสถานศึกษา ({p['seats']} ที่นั่ง)",
        f"School board established ({p['seats']} seats)",
    )


def _meeting_scheduled(e: Event, _: Titles) -> Entry:
    day = e["payload"]["meeting_date"]
    return Entry(
        thai_date(e["occurred_at"]),
        f"นัดประชุมคณะกรรมการ วันที่ {day}",
        f"Board meeting scheduled for {day}",
        SCHEDULED,
    )


def _meeting_held(e: Event, _: Titles) -> Entry:
    p = e["payload"]
    present = sum(1 for row in p["attendance"] if row["status"] == "present")
    quorum = ("ครบองค์ประชุม", "Quorum reached") if p["quorum_reached"] else ("ไม่ครบองค์ประชุม", "No quorum")
    return Entry(
        p["meeting_date"],
        f"ประชุมคณะกรรมการ: มาประชุม {present} จาก {p['members_total']} คน",
        f"Board meeting held: {present} of {p['members_total']} members present",
        quorum,
    )


def _meeting_cancelled(e: Event, _: Titles) -> Entry:
    return Entry(
        e["payload"]["meeting_date"], "ยกเลิกการประชุมคณะกรรมการ", "Board meeting cancelled", CANCELLED
    )


def _minutes(e: Event, _: Titles) -> Entry:
    return Entry(e["payload"]["recorded_date"], "บันทึกรายงานการประชุม", "Meeting minutes recorded")


def _resolution(e: Event, _: Titles) -> Entry:
    rid = e["payload"]["resolution_id"]
    return Entry(e["payload"]["adopted_date"], f"คณะกรรมการมีมติ {rid}", f"Resolution {rid} adopted")


def _action_item_created(e: Event, _: Titles) -> Entry:
    p = e["payload"]
    return Entry(
        thai_date(e["occurred_at"]),
        f"งานตามมติ {p['action_item_id']} กำหนดเสร็จ {p['due_date']}",
        f"Action item {p['action_item_id']} created, due {p['due_date']}",
        OPEN,
    )


def _action_item_overdue(e: Event, _: Titles) -> Entry:
    p = e["payload"]
    return Entry(
        p["due_date"],
        f"งานตามมติ {p['action_item_id']} เกินกำหนด",
        f"Action item {p['action_item_id']} overdue",
        OVERDUE,
    )


def _action_item_completed(e: Event, _: Titles) -> Entry:
    p = e["payload"]
    return Entry(
        p["completed_date"],
        f"งานตามมติ {p['action_item_id']} เสร็จสิ้น",
        f"Action item {p['action_item_id']} completed",
        DONE_LATE if p["was_overdue"] else DONE,
    )


DESCRIBE: dict[str, Callable[[Event, Titles], Entry]] = {
    "supervision.VisitScheduled": _visit_scheduled,
    "supervision.VisitCompleted": _visit_completed,
    "supervision.VisitCancelled": _visit_cancelled,
    "supervision.CoachingSessionRecorded": _coaching,
    "supervision.PlcSessionRecorded": _plc,
    "supervision.FindingRecorded": _finding,
    "supervision.FollowUpOpened": _follow_up_opened,
    "supervision.FollowUpOverdue": _follow_up_overdue,
    "supervision.FollowUpCompleted": _follow_up_completed,
    "training.EnrolmentCreated": _enrolment,
    "training.SeatOffered": _enrolment,
    "training.EnrolmentWithdrawn": _withdrawal,
    "training.CompletionAchieved": _completion,
    "committee.CommitteeEstablished": _established,
    "committee.MeetingScheduled": _meeting_scheduled,
    "committee.MeetingHeld": _meeting_held,
    "committee.MeetingCancelled": _meeting_cancelled,
    "committee.MinutesRecorded": _minutes,
    "committee.ResolutionAdopted": _resolution,
    "committee.ActionItemCreated": _action_item_created,
    "committee.ActionItemOverdue": _action_item_overdue,
    "committee.ActionItemCompleted": _action_item_completed,
}


# --- the fold -----------------------------------------------------------------------------------------------


def schools_of(event: Event) -> list[str]:
    """The schools an event is about: its payload's, or its org's (a school board's events name none)."""
    p = event["payload"]
    if "school_codes" in p:
        return list(p["school_codes"])
    school = p.get("school_code") or event["org"].get("school_code")
    return [school] if school else []


def entry_keys(event: Event) -> list[tuple[str, str]]:
    """(activity key, school) for each school an event is about: the event id, or `<event id>:<school>` for a
    PLC session, which names several schools."""
    per_school = "school_codes" in event["payload"]
    return [
        (f"{event['event_id']}:{school}" if per_school else event["event_id"], school)
        for school in schools_of(event)
    ]


def preload(events: list[Event]) -> dict[str, list[str]]:
    """The schools' units (org paths: training and PLC events carry their host's), the programme titles, and
    the entries already kept (only an event applied again after its applied record expired has one)."""
    described = [e for e in events if e["event_type"] in DESCRIBE]
    return {
        UNITS: [unit_key("school", s) for e in described for s in schools_of(e)],
        PROGRAMMES: [e["payload"]["programme_id"] for e in described if "programme_id" in e["payload"]],
        ACTIVITY: [key for e in described for key, _ in entry_keys(e)],
    }


def on_programme_created(batch: ViewBatch, event: Event) -> None:
    p = event["payload"]
    titles = {"title_th": p["title_th"], "title_en": p["title_en"] or p["title_th"]}
    batch.remember(PROGRAMMES, p["programme_id"], titles)
    batch.change(PROGRAMMES, p["programme_id"], set=titles)


def _titles(batch: ViewBatch) -> Titles:
    def titles(programme_id: str) -> tuple[str, str]:
        doc = batch.doc(PROGRAMMES, programme_id) or {}
        return doc.get("title_th", programme_id), doc.get("title_en", programme_id)

    return titles


def on_event(batch: ViewBatch, event: Event) -> None:
    keys = entry_keys(event)
    if not keys:  # a network committee's event: no school's activity
        return
    entry = DESCRIBE[event["event_type"]](event, _titles(batch))
    for key, school in keys:
        org = event["org"] if event["org"].get("school_code") == school else batch.school_org(school)
        new = batch.doc(ACTIVITY, key) is None
        batch.change(ACTIVITY, key, set=_document(event, entry, org), new=new)


def _document(event: Event, entry: Entry, org: dict[str, Any]) -> dict[str, Any]:
    status = {"status_th": entry.status[0], "status_en": entry.status[1]} if entry.status else {}
    return {
        "org": org,
        "at": entry.at,
        "occurred_at": event["occurred_at"],
        "period": event["payload"]["period"],
        "model": event["event_type"].split(".")[0],
        "kind": event["event_type"],
        "title_th": entry.title_th,
        "title_en": entry.title_en,
        **status,
    }


def ensure_indexes(db: Database) -> None:
    """A school's activity, newest first."""
    db[ACTIVITY].create_index([("org.school_code", ASCENDING), *NEWEST_FIRST])


HANDLERS = {
    "training.ProgrammeCreated": on_programme_created,
    **dict.fromkeys(DESCRIBE, on_event),
}
