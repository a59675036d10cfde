"""Importing an online platform's participant report: reading the CSV, merging rejoins, matching rows to the
roster, recording through the attendance handler (idempotently), the API endpoint and the CLI."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from rich.console import Console

from services.training import cli, handlers
from services.training.app import create_app
from services.training.attendance_report import (
    ReportError,
    ReportRow,
    attended_minutes,
    match_rows,
    name_keys,
    parse_report,
    parse_time,
)
from services.training.commands import RecordAttendance
from services.training.domain import Attendance, InvalidTransition, RuleViolation, Teacher, attendance_id
from shared.auth import Principal, issue_token
from shared.errors import Forbidden, NotFound
from shared.settings import Settings
from tests.unit.fakes_training import SCHOOLS, FakeRepository
from tests.unit.test_training_api import OFFICER, OTHER_AREA, TEACHER, enrol, running

SETTINGS = Settings()
DAY = date(2026, 11, 20)
OFFICER_CTX = handlers.Context(Principal("esa_officer-13P1", "n", "esa_officer", "esa", "13P1"))

# A Zoom-style report: BOM, its own header names, a rejoin, a name-only row, an ambiguous name, a guest.
ZOOM = (
    "\ufeffName (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\n"
    "Somchai Jaidee,T13010001-01@SCHOOL.example.org,11/20/2026 08:55:00 AM,11/20/2026 10:00:00 AM,65,No\n"
    "Somchai (phone),t13010001-01@school.example.org,11/20/2026 09:30:00 AM,11/20/2026 11:00:00 AM,90,No\n"
    "สมชาย ใจดี,,11/20/2026 10:30:00 AM,11/20/2026 10:45:00 AM,15,No\n"
    "ครูสมศรี มีสุข,,11/20/2026 09:00:00 AM,11/20/2026 12:00:00 PM,180,No\n"
    "Somsri Meesuk,t13010001-02@school.example.org,11/20/2026 09:00:00 AM,11/20/2026 12:30:00 PM,210,No\n"
    "Visitor,visitor@example.com,11/20/2026 09:00:00 AM,11/20/2026 09:30:00 AM,30,Yes\n"
    "Wichai Kengkla,,11/20/2026 09:00:00 AM,11/20/2026 09:30:00 AM,30,No\n"
    "Broken,,not a time,11/20/2026 10:00:00 AM,,No\n"
    "\n"
).encode()


# --- reading --------------------------------------------------------------------------------------------


def test_a_zoom_report_is_read_with_line_numbers_and_invalid_rows() -> None:
    report = parse_report(ZOOM, DAY)
    assert [r.line for r in report.rows] == [2, 3, 4, 5, 6, 7, 8]
    first = report.rows[0]
    assert (first.name, first.email) == ("Somchai Jaidee", "T13010001-01@SCHOOL.example.org")
    assert (first.join, first.leave) == (datetime(2026, 11, 20, 8, 55), datetime(2026, 11, 20, 10, 0))
    assert report.rows[4].leave == datetime(2026, 11, 20, 12, 30)  # 12:30 PM
    assert [(i.line, "not a date and time" in i.reason) for i in report.invalid] == [(9, True)]


def test_headers_are_case_insensitive_and_a_summary_above_them_is_skipped() -> None:
    teams = (
        "Meeting Summary\n"
        "Total Number of Participants\t3\n"
        "\n"
        "full name\tJOIN TIME\tleave time\temail\n"
        "ครูสมชาย ใจดี\t2026-11-20 09:00:00\t2026-11-20 10:15:30\tt13010001-01@school.example.org\n"
    ).encode()
    (row,) = parse_report(teams, DAY).rows
    assert (row.line, row.name, row.leave) == (5, "ครูสมชาย ใจดี", datetime(2026, 11, 20, 10, 15, 30))
    semicolons = "email;duration (minutes)\nt13010001-01@school.example.org;42\n".encode("utf-8-sig")
    (row,) = parse_report(semicolons, DAY).rows
    assert (row.email, row.duration_minutes, row.join) == ("t13010001-01@school.example.org", 42, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T09:05:00", datetime(2026, 11, 20, 9, 5)),
        ("2026-11-20 02:05:00+00:00", datetime(2026, 11, 20, 9, 5)),  # UTC to Thai time
        ("20/11/2569 09:05", datetime(2026, 11, 20, 9, 5)),  # Buddhist Era, day first
        ("11/20/26, 9:05:00 AM", datetime(2026, 11, 20, 9, 5)),  # Teams, US
        ("11/20/2026 1:05 PM", datetime(2026, 11, 20, 13, 5)),
        ("12/11/2026 09:05", datetime(2026, 11, 12, 9, 5)),  # day first by default
        ("09:05", datetime(2026, 11, 20, 9, 5)),  # a time of day on the session's date
        ("12:05 AM", datetime(2026, 11, 20, 0, 5)),
    ],
)
def test_times_in_the_formats_platforms_write(text: str, expected: datetime) -> None:
    assert parse_time(text, DAY) == expected


def test_an_ambiguous_date_is_read_the_way_that_falls_on_the_session() -> None:
    assert parse_time("05/06/2026 09:00", date(2026, 5, 6)) == datetime(2026, 5, 6, 9, 0)
    assert parse_time("05/06/2026 09:00", date(2026, 6, 5)) == datetime(2026, 6, 5, 9, 0)


@pytest.mark.parametrize("text", ["25:00", "13:00 PM", "31/31/2026 09:00", "yesterday", "2026-13-01 09:00"])
def test_times_that_are_not_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text, DAY)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Name,Join time,Leave time\n\xff\xfe\xfa,09:00,10:00\n"[:-1] + b"\xc3", "UTF-8"),
        (b"", "empty"),
        (b"Name,Email\nSomchai,s@x.org\n", "no header row"),
        (b"Join time,Leave time\n09:00,10:00\n", "no header row"),
    ],
)
def test_an_unreadable_report_is_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(ReportError) as err:
        parse_report(data, DAY)
    assert message in err.value.message


def test_utf16_exports_with_a_bom_are_read() -> None:
    data = "Name\tDuration\nครูสมชาย ใจดี\t30\n".encode("utf-16")
    assert parse_report(data, DAY).rows[0].duration_minutes == 30


def test_rows_missing_what_they_need_are_invalid() -> None:
    data = (
        b"Name,Join time,Leave time,Duration (minutes)\n"
        b"A,09:00,,\n"  # a join time without its leave time
        b"B,10:00,09:00,\n"  # leaves before joining
        b"C,,,\n"  # nothing to go by
        b"D,,,lots\n"
        b"E,,,2000\n"
        b",09:00,10:00,\n"  # nobody
    )
    report = parse_report(data, DAY)
    assert report.rows == []
    assert [i.line for i in report.invalid] == [2, 3, 4, 5, 6, 7]


# --- minutes and matching -------------------------------------------------------------------------------


def row(start: str, end: str, line: int = 2) -> ReportRow:
    return ReportRow(line, "x", "", parse_time(start, DAY), parse_time(end, DAY))


def test_rejoins_are_merged_so_overlaps_count_once_and_the_total_is_capped() -> None:
    assert attended_minutes([row("09:00", "10:00"), row("09:30", "11:00")], 180) == 120
    assert attended_minutes([row("09:00", "09:30"), row("10:00", "10:30")], 180) == 60
    assert attended_minutes([row("10:00", "10:30"), row("09:00", "09:45"), row("09:40", "10:05")], 180) == 90
    assert attended_minutes([row("08:00", "13:00")], 180) == 180  # capped at the session's length
    assert attended_minutes([row("09:00", "09:00:59")], 180) == 0
    with_duration = [row("09:00", "09:30"), ReportRow(3, "x", "", duration_minutes=20)]
    assert attended_minutes(with_duration, 180) == 50


def test_names_are_normalised_and_one_title_may_be_dropped() -> None:
    assert name_keys("  ครูสมชาย   ใจดี ") == {"ครูสมชาย ใจดี", "สมชาย ใจดี"}
    assert name_keys("Mr. SOMCHAI\u200b Jaidee") == {"mr. somchai jaidee", "somchai jaidee"}
    assert "นางนวล ดี" in name_keys("ครูนางนวล ดี")  # a name that starts like a title is kept whole too
    assert name_keys("") == set()


def test_rows_match_by_email_first_then_by_a_name_only_one_teacher_has() -> None:
    teachers = [
        Teacher("A", "13010001", SCHOOLS["13010001"], "ครูสมชาย ใจดี", "Somchai Jaidee", "a@school.org"),
        Teacher("B", "13010001", SCHOOLS["13010001"], "ครูสมศรี มีสุข", "Somsri Meesuk", "b@school.org"),
        Teacher("C", "13010001", SCHOOLS["13010001"], "ครูสมศรี มีสุข", "Somsri Meesuk", ""),
    ]
    rows = [
        ReportRow(2, "Somsri Meesuk", "A@School.org"),  # the e-mail wins over the name
        ReportRow(3, "somchai  jaidee", ""),
        ReportRow(4, "Somsri Meesuk", ""),  # two teachers have this name
        ReportRow(5, "Nobody", "nobody@x.org"),
        ReportRow(6, "", "b@school.org"),
    ]
    matching = match_rows(rows, teachers)
    assert {t: [r.line for r in rs] for t, rs in matching.rows_by_teacher.items()} == {"A": [2, 3], "B": [6]}
    assert [(u.line, u.reason.split(";")[0]) for u in matching.unmatched] == [
        (4, "the name fits several enrolled teachers"),
        (5, "no enrolled teacher has this e-mail or name"),
    ]


# --- the handler ----------------------------------------------------------------------------------------


@pytest.fixture
def repo() -> FakeRepository:
    return FakeRepository()


@pytest.fixture
def client(repo: FakeRepository) -> Iterator[FlaskClient]:
    app = create_app(SETTINGS, repository_factory=lambda: repo)
    with app.test_client() as client:
        yield client


def roster(client: FlaskClient) -> dict[str, Any]:
    """A running hybrid session (09:00-12:00, 180 minutes) with three teachers enrolled online."""
    programme = running(client)
    for teacher_id in ("T13010001-01", "T13010001-02", "T13010001-03"):
        assert enrol(client, programme["id"], teacher_id, mode="online").status_code == 201
    return programme


def report_url(programme: dict[str, Any], session_id: str | None = None) -> str:
    session_id = session_id or programme["sessions"][0]["id"]
    return f"/api/v1/programmes/{programme['id']}/sessions/{session_id}/attendance-report"


def import_report(client: FlaskClient, programme: dict[str, Any], data: bytes, headers: Any = None) -> Any:
    return client.post(report_url(programme), data=data, headers=headers or OFFICER, content_type="text/csv")


def test_the_import_records_matched_teachers_and_reports_the_rest(
    client: FlaskClient, repo: FakeRepository
) -> None:
    programme = roster(client)
    response = import_report(client, programme, ZOOM)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["rows"], body["matched_rows"], body["matched_teachers"]) == (8, 4, 2)
    assert (body["recorded"], body["unchanged"], body["mode"]) == (2, 0, "online")
    assert [(t["teacher_id"], t["minutes"], t["lines"], t["changed"]) for t in body["teachers"]] == [
        ("T13010001-01", 125, [2, 3, 4], True),  # 08:55-11:00, the rejoin and the name-only row merged
        ("T13010001-02", 180, [6], True),  # 210 minutes in the call, capped at the session's 180
    ]
    assert [(u["line"], u["name"]) for u in body["unmatched"]] == [
        (5, "ครูสมศรี มีสุข"),  # -02 and -03 share the name
        (7, "Visitor"),
        (8, "Wichai Kengkla"),  # a teacher, but not enrolled
    ]
    assert [i["line"] for i in body["invalid"]] == [9]
    stored = repo.get(Attendance, attendance_id(programme["sessions"][0]["id"], "T13010001-01"))
    assert stored is not None
    assert (stored.minutes_by_mode, stored.recorded_by) == ({"online": 125}, "esa_officer-13P1")
    assert repo.event_types().count("training.AttendanceRecorded") == 2


def test_importing_the_same_report_again_changes_nothing(client: FlaskClient, repo: FakeRepository) -> None:
    programme = roster(client)
    assert import_report(client, programme, ZOOM).status_code == 201
    saves, outbox, audit = repo.saves, len(repo.outbox), len(repo.audit)
    again = import_report(client, programme, ZOOM).get_json()
    assert (again["recorded"], again["unchanged"]) == (0, 2)
    assert [t["changed"] for t in again["teachers"]] == [False, False]
    assert (repo.saves, len(repo.outbox), len(repo.audit)) == (saves, outbox, audit)


def test_online_from_the_report_and_onsite_count_once(client: FlaskClient, repo: FakeRepository) -> None:
    programme = roster(client)
    session_id = programme["sessions"][0]["id"]
    record = {"session_id": session_id, "teacher_id": "T13010001-01", "mode": "onsite", "minutes": 150}
    url = f"/api/v1/programmes/{programme['id']}/attendance"
    assert client.post(url, json=record, headers=OFFICER).status_code == 201
    body = import_report(client, programme, ZOOM).get_json()
    assert body["teachers"][0]["credited_minutes"] == 150  # the larger of onsite 150 and online 125, not 275
    stored = repo.get(Attendance, attendance_id(session_id, "T13010001-01"))
    assert stored is not None and stored.minutes_by_mode == {"onsite": 150, "online": 125}


def test_the_same_minutes_recorded_by_hand_are_a_no_op_too(repo: FakeRepository, client: FlaskClient) -> None:
    programme = roster(client)
    cmd = RecordAttendance(programme["id"], programme["sessions"][0]["id"], "T13010001-01", "online", 60)
    first = handlers.record_attendance(cmd, repo, OFFICER_CTX)
    saves = repo.saves
    second = handlers.record_attendance(cmd, repo, OFFICER_CTX)
    assert (second.version, repo.saves) == (first.version, saves)
    changed = handlers.record_attendance(
        RecordAttendance(cmd.programme_id, cmd.session_id, cmd.teacher_id, "online", 61), repo, OFFICER_CTX
    )
    assert (changed.version, repo.saves) == (first.version + 1, saves + 1)


def test_the_import_reports_progress(client: FlaskClient, repo: FakeRepository) -> None:
    programme = roster(client)
    calls: list[tuple[int, int]] = []
    handlers.import_attendance_report(
        programme["id"],
        programme["sessions"][0]["id"],
        ZOOM,
        repo,
        OFFICER_CTX,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(0, 2), (1, 2), (2, 2)]


def test_who_may_import_and_what_is_refused(client: FlaskClient, repo: FakeRepository) -> None:
    programme = roster(client)
    saves = repo.saves
    assert import_report(client, programme, ZOOM, headers=TEACHER).status_code == 403
    assert import_report(client, programme, ZOOM, headers=OTHER_AREA).status_code == 403
    url = report_url(programme)
    assert client.post(url, data=ZOOM, content_type="text/csv").status_code == 401
    files = {"report": (io.BytesIO(ZOOM), "r.csv")}
    multipart = client.post(url, headers=OFFICER, data=files, content_type="multipart/form-data")
    assert multipart.status_code == 415
    assert client.post(url, headers=OFFICER, json={"report": "x"}).status_code == 415
    assert import_report(client, programme, b"").status_code == 422
    not_utf8 = import_report(client, programme, "Name,Duration\nสมชาย,30\n".encode("cp874"))
    assert not_utf8.status_code == 422
    assert "UTF-8" in not_utf8.get_json()["message"]
    missing = client.post(
        report_url(programme, "sess-nope"), data=ZOOM, headers=OFFICER, content_type="text/csv"
    )
    assert missing.status_code == 404
    assert repo.saves == saves
    with pytest.raises(Forbidden):
        handlers.import_attendance_report(
            programme["id"],
            programme["sessions"][0]["id"],
            ZOOM,
            repo,
            handlers.Context(Principal("T13010001-01", "n", "teacher", "school", "13010001")),
        )


def test_a_report_larger_than_the_body_limit_is_413(client: FlaskClient, repo: FakeRepository) -> None:
    programme = roster(client)
    big = ZOOM + b"x" * SETTINGS.max_body_bytes
    assert import_report(client, programme, big).status_code == 413


def test_an_onsite_session_or_a_closed_programme_takes_no_report(
    client: FlaskClient, repo: FakeRepository
) -> None:
    programme = client.post(
        "/api/v1/programmes",
        json={
            "title_th": "อบรม",
            "competency_area": "x",
            "subject": "all",
            "grade_band": "all",
            "credited_hours": 3,
            "start_date": "2026-11-16",
            "host_level": "esa",
            "host_code": "13P1",
        },
        headers=OFFICER,
    ).get_json()
    url = f"/api/v1/programmes/{programme['id']}"
    onsite = {"mode": "onsite", "session_date": "2026-11-20", "start_time": "09:00", "end_time": "12:00"}
    session = client.post(
        f"{url}/sessions", json={**onsite, "venue": "ห้องประชุม", "capacity_onsite": 5}, headers=OFFICER
    ).get_json()["session"]
    with pytest.raises(InvalidTransition):  # still a draft
        handlers.import_attendance_report(programme["id"], session["id"], ZOOM, repo, OFFICER_CTX)
    assert client.post(f"{url}/publish", headers=OFFICER).status_code == 201
    with pytest.raises(RuleViolation):
        handlers.import_attendance_report(programme["id"], session["id"], ZOOM, repo, OFFICER_CTX)
    with pytest.raises(NotFound):
        handlers.import_attendance_report("prog-nope", session["id"], ZOOM, repo, OFFICER_CTX)


def test_a_cancelled_session_takes_no_report(client: FlaskClient, repo: FakeRepository) -> None:
    programme = roster(client)
    session_id = programme["sessions"][0]["id"]
    cancel = f"/api/v1/programmes/{programme['id']}/sessions/{session_id}/cancel"
    assert client.post(cancel, headers=OFFICER).status_code == 201
    assert import_report(client, programme, b"Name,Duration\nNobody,5\n").status_code == 409


def test_the_import_endpoint_is_documented_as_a_csv_body(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/programmes/{programme_id}/sessions/{session_id}/attendance-report"][
        "post"
    ]
    assert list(operation["requestBody"]["content"]) == ["text/csv"]
    assert operation["requestBody"]["required"] is True
    assert {"413", "415"} <= set(operation["responses"])


# --- the CLI --------------------------------------------------------------------------------------------


def run_cli(repo: FakeRepository, *args: str, token: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    argv = ["import-attendance", *args] + (["--token", token] if token else [])
    code = cli.main(argv, settings=SETTINGS, repository=lambda _: repo, console=Console(file=out, width=200))
    return code, out.getvalue()


def test_the_cli_imports_with_the_same_code_and_prints_a_summary(
    client: FlaskClient, repo: FakeRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    programme = roster(client)
    report = tmp_path / "participants.csv"
    report.write_bytes(ZOOM)
    officer = issue_token(
        SETTINGS, sub="esa_officer-13P1", role="esa_officer", scope_level="esa", scope_code="13P1"
    )
    where = ["--programme", programme["id"], "--session", programme["sessions"][0]["id"], str(report)]
    code, out = run_cli(repo, *where, token=officer)
    assert code == 0, out
    assert "2 recorded, 0 unchanged; 3 unmatched, 1 invalid" in out
    assert "T13010001-01" in out and "Visitor" in out
    stored = repo.get(Attendance, attendance_id(programme["sessions"][0]["id"], "T13010001-02"))
    assert stored is not None and stored.minutes_by_mode == {"online": 180}
    assert repo.audit[-1]["source"] == {"process": "services.training.cli"}

    monkeypatch.setenv(cli.TOKEN_ENV, officer)
    code, out = run_cli(repo, *where)
    assert (code, "0 recorded, 2 unchanged" in out) == (0, True)
    monkeypatch.delenv(cli.TOKEN_ENV)
    assert run_cli(repo, *where)[0] == 2  # no token
    teacher = issue_token(
        SETTINGS, sub="T13010001-01", role="teacher", scope_level="school", scope_code="13010001"
    )
    assert run_cli(repo, *where, token=teacher)[0] == 1  # not allowed
    assert run_cli(repo, *where[:-1], str(tmp_path / "missing.csv"), token=officer)[0] == 2


def test_the_domain_takes_the_same_minutes_again_as_no_change() -> None:
    from tests.unit.test_training_domain import attend, published, teacher

    programme = published(sessions=1)
    me = teacher()
    programme.enrol(me, "online", "x")
    attendance, events = attend(programme, me, 0, "online", 90)
    again, no_events = attend(programme, me, 0, "online", 90, existing=attendance)
    assert (again.version, again.minutes_by_mode, no_events) == (1, {"online": 90}, [])
    more, events = attend(programme, me, 0, "online", 95, existing=again)
    assert (more.version, len(events)) == (2, 1)
