"""Reading an online platform's participant report (Zoom, Teams, Meet: CSV) and matching it to a roster.

Plain Python, no I/O. A report is UTF-8 (a BOM is fine; a UTF-16 export with its BOM is read too), comma-,
semicolon- or tab-separated, with a header row that names the columns, case-insensitively: a name
(`Name`, `Name (Original Name)`, `Full Name`, ...) and/or an e-mail (`Email`, `User Email`, ...), and either
`Join time` + `Leave time` or `Duration (minutes)`. Lines above the header (a platform's summary) are skipped.

A participant may appear on several rows (they left and rejoined): their intervals are merged, so overlapping
rows count once, and the total is capped at the session's length. A row with a duration but no join/leave
times adds its duration. Times are read as ISO (`2026-11-20 09:02:13`), US (`11/20/2026 09:02:13 AM`),
day-first (`20/11/2026 09:02`; an ambiguous `05/06/2026` is read the way that falls on the session's date),
Buddhist-Era years (`20/11/2569`) or a bare time of day on the session's date.

Rows are matched to enrolled teachers by e-mail (case-insensitive), else by the exact normalised Thai or
English name (Unicode NFC, case and spacing folded, one title such as ครู / นาย / Mr. may be dropped).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from services.training.domain import RuleViolation, Teacher
from shared.calendar import THAILAND

BE_OFFSET = 543
HEADER_SEARCH_LINES = 30  # how far down a platform's summary may push the header row
DELIMITERS = (",", ";", "\t")

# header (normalised) -> column
COLUMNS: dict[str, str] = {
    **dict.fromkeys(
        ("name", "name (original name)", "full name", "participant", "participant name", "display name",
         "user name", "ชื่อ", "ชื่อผู้เข้าร่วม"),
        "name",
    ),
    **dict.fromkeys(
        ("email", "e-mail", "user email", "email address", "e-mail address", "participant email", "อีเมล"),
        "email",
    ),
    **dict.fromkeys(
        ("join time", "joined", "join", "joined at", "first join", "first join time", "เวลาเข้าร่วม"),
        "join",
    ),
    **dict.fromkeys(
        ("leave time", "left", "leave", "left at", "last leave", "last leave time", "เวลาออก"),
        "leave",
    ),
    **dict.fromkeys(
        ("duration (minutes)", "duration (mins)", "duration (min)", "duration", "minutes",
         "in-meeting duration", "ระยะเวลา (นาที)"),
        "duration",
    ),
}  # fmt: skip
TITLES = (
    "นางสาว", "น.ส.", "นาง", "นาย", "ครู", "ดร.", "ผศ.", "รศ.", "ศ.",
    "mrs.", "mrs", "mr.", "mr", "ms.", "ms", "miss", "dr.", "dr",
)  # fmt: skip
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))

_TIME = r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?:\s*(?P<ampm>[AaPp]\.?[Mm]\.?))?"
SLASHED = re.compile(r"^(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>\d{2}|\d{4}),?\s+" + _TIME + r"$")
TIME_ONLY = re.compile(r"^" + _TIME + r"$")


@dataclass(frozen=True)
class ReportRow:
    """One participant row: where it is in the file, who it names and the time it covers."""

    line: int
    name: str
    email: str
    join: datetime | None = None
    leave: datetime | None = None
    duration_minutes: int | None = None


@dataclass(frozen=True)
class InvalidRow:
    line: int
    reason: str


@dataclass
class ParsedReport:
    rows: list[ReportRow] = field(default_factory=list)
    invalid: list[InvalidRow] = field(default_factory=list)


@dataclass(frozen=True)
class UnmatchedRow:
    line: int
    name: str
    email: str
    reason: str


@dataclass
class Matching:
    """Rows per matched teacher (by teacher id, in roster order), and the rows that matched nobody."""

    rows_by_teacher: dict[str, list[ReportRow]] = field(default_factory=dict)
    unmatched: list[UnmatchedRow] = field(default_factory=list)


class ReportError(RuleViolation):
    """A report that cannot be read at all (HTTP 422): not UTF-8, no header row, nothing to go by."""


# --- reading --------------------------------------------------------------------------------------------


def decode_report(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise ReportError("the report is not valid UTF-16", {"report": [str(err)]}) from err
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ReportError(
            "the report must be UTF-8 (with or without a BOM)", {"report": [f"byte {err.start}"]}
        ) from err


def parse_report(data: bytes, session_date: date) -> ParsedReport:
    """The participant rows of a report, and the rows that could not be read (with their line numbers)."""
    text = decode_report(data)
    if not text.strip():
        raise ReportError("the report is empty", {"report": ["empty"]})
    reader, columns = _header_row(text)
    report = ParsedReport()
    for raw in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in raw):
            continue
        cells = {name: raw[i].strip() if i < len(raw) else "" for name, i in columns.items()}
        try:
            report.rows.append(_row(line, cells, session_date))
        except ValueError as err:
            report.invalid.append(InvalidRow(line, str(err)))
    return report


def _header_row(text: str) -> tuple[Any, dict[str, int]]:
    """A reader positioned after the header row, and the header's columns: the first delimiter (comma,
    semicolon, tab) under which a header row is found wins."""
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        columns = _find_header(reader)
        if columns:
            return reader, columns
    raise ReportError(
        "no header row: a report names its columns, e.g. Name, Email, Join time, Leave time",
        {"report": ["expected a Name or Email column and Join time + Leave time or Duration (minutes)"]},
    )


def _find_header(reader: Iterable[list[str]]) -> dict[str, int] | None:
    for count, raw in enumerate(reader):
        if count >= HEADER_SEARCH_LINES:
            break
        columns: dict[str, int] = {}
        for i, cell in enumerate(raw):
            name = COLUMNS.get(_header(cell))
            if name is not None:
                columns.setdefault(name, i)
        who = "name" in columns or "email" in columns
        when = {"join", "leave"} <= columns.keys() or "duration" in columns
        if who and when:
            return columns
    return None


def _header(cell: str) -> str:
    return " ".join(cell.translate(ZERO_WIDTH).strip().strip('"').casefold().split())


def _row(line: int, cells: dict[str, str], session_date: date) -> ReportRow:
    name, email = cells.get("name", ""), cells.get("email", "")
    if not name and not email:
        raise ValueError("no name or e-mail")
    if len(name) > 300 or len(email) > 320:
        raise ValueError("name or e-mail is too long")
    join_text, leave_text = cells.get("join", ""), cells.get("leave", "")
    duration_text = cells.get("duration", "")
    join = leave = None
    duration = None
    if join_text or leave_text:
        if not (join_text and leave_text):
            raise ValueError("a join time needs its leave time")
        join = parse_time(join_text, session_date)
        leave = parse_time(leave_text, session_date)
        if leave < join:
            raise ValueError(f"leave time {leave_text!r} is before join time {join_text!r}")
    elif duration_text:
        duration = parse_minutes(duration_text)
    else:
        raise ValueError("no join and leave times and no duration")
    return ReportRow(line, name, email, join, leave, duration)


def parse_minutes(text: str) -> int:
    try:
        minutes = float(text.replace(",", "."))
    except ValueError:
        raise ValueError(f"duration {text!r} is not a number of minutes") from None
    if not 0 <= minutes <= 24 * 60:
        raise ValueError(f"duration {text!r} is not 0-1440 minutes")
    return int(minutes)


def parse_time(text: str, session_date: date) -> datetime:
    """A report's time as a naive local date-time (an ISO time with an offset is converted to Thai time)."""
    value = " ".join(text.split())
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        pass
    else:
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(THAILAND).replace(tzinfo=None)
        return _ce(parsed)
    if match := TIME_ONLY.match(value):
        return datetime.combine(session_date, _clock(match))
    if match := SLASHED.match(value):
        return _slashed(match, session_date)
    raise ValueError(f"time {text!r} is not a date and time this import reads")


def _clock(match: re.Match[str]) -> time:
    hour, minute, second = int(match["h"]), int(match["mi"]), int(match["s"] or 0)
    ampm = (match["ampm"] or "").replace(".", "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError(f"{match[0]!r} is not a 12-hour time")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{match[0]!r} is not a time of day")
    return time(hour, minute, second)


def _slashed(match: re.Match[str], session_date: date) -> datetime:
    a, b, year = int(match["a"]), int(match["b"]), int(match["y"])
    if year < 100:
        year += 2000
    if year > 2400:  # a Buddhist-Era year
        year -= BE_OFFSET
    candidates = []
    # a 12-hour clock marks the US order (month first); otherwise day first, as Thai and most exports write
    orders = [(a, b), (b, a)] if match["ampm"] else [(b, a), (a, b)]
    for month, day in orders:
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise ValueError(f"{match[0]!r} is not a date")
    on_the_day = [d for d in candidates if abs((d - session_date).days) <= 1]
    day = (on_the_day or candidates)[0]
    return datetime.combine(day, _clock(match))


def _ce(value: datetime) -> datetime:
    return value.replace(year=value.year - BE_OFFSET) if value.year > 2400 else value


# --- minutes --------------------------------------------------------------------------------------------


def attended_minutes(rows: Iterable[ReportRow], session_minutes: int) -> int:
    """A participant's minutes: their intervals merged (a rejoin overlapping an earlier row counts once),
    plus the durations of rows without times, capped at the session's length."""
    intervals = sorted((r.join, r.leave) for r in rows if r.join is not None and r.leave is not None)
    seconds = 0.0
    current: tuple[datetime, datetime] | None = None
    for start, end in intervals:
        if current is None or start > current[1]:
            if current is not None:
                seconds += (current[1] - current[0]).total_seconds()
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        seconds += (current[1] - current[0]).total_seconds()
    minutes = int(seconds // 60) + sum(r.duration_minutes or 0 for r in rows if r.join is None)
    return max(0, min(minutes, session_minutes))


# --- matching -------------------------------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """NFC, no zero-width characters, case-folded, single spaces."""
    text = unicodedata.normalize("NFC", name).translate(ZERO_WIDTH).casefold()
    return " ".join(text.split())


def name_keys(name: str) -> set[str]:
    """The normalised name, and the same without one leading title (ครูสมชาย, นายสมชาย, Mr. Somchai)."""
    full = normalise_name(name)
    if not full:
        return set()
    keys = {full}
    for title in TITLES:
        rest = full.removeprefix(title)
        # a Latin title ends at a dot or a space ("dr" does not start "drew"); a Thai one is written joined
        if rest == full or (title.isascii() and not title.endswith(".") and not rest.startswith(" ")):
            continue
        if rest.strip():
            keys.add(rest.strip())
    return keys


def match_rows(rows: list[ReportRow], teachers: list[Teacher]) -> Matching:
    """Each row to one enrolled teacher: by e-mail first, else by a name only one teacher has."""
    by_email: dict[str, str] = {}
    for t in teachers:
        if t.email.strip():
            by_email[t.email.strip().casefold()] = t.teacher_id
    by_name: dict[str, set[str]] = {}
    for t in teachers:
        for name in (t.name_th, t.name_en):
            for key in name_keys(name):
                by_name.setdefault(key, set()).add(t.teacher_id)
    matching = Matching({t.teacher_id: [] for t in teachers})
    for row in rows:
        teacher_id, reason = _match(row, by_email, by_name)
        if teacher_id is None:
            matching.unmatched.append(UnmatchedRow(row.line, row.name, row.email, reason))
        else:
            matching.rows_by_teacher[teacher_id].append(row)
    matching.rows_by_teacher = {t: rs for t, rs in matching.rows_by_teacher.items() if rs}
    return matching


def _match(row: ReportRow, by_email: dict[str, str], by_name: dict[str, set[str]]) -> tuple[str | None, str]:
    email = row.email.strip().casefold()
    if email and email in by_email:
        return by_email[email], ""
    found: set[str] = set()
    for key in name_keys(row.name):
        found |= by_name.get(key, set())
    if len(found) == 1:
        return found.pop(), ""
    if len(found) > 1:
        return None, "the name fits several enrolled teachers; add their e-mail to the report"
    if email and row.name:
        return None, "no enrolled teacher has this e-mail or name"
    if email:
        return None, "no enrolled teacher has this e-mail"
    return None, "no enrolled teacher has this name"
