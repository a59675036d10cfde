"""Importing results files: reading CSV and XLSX alike, every row rule with its line and column, result ids,
new / corrected / unchanged, batches, scope per row, events that keep the contract, the generator and CLI."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from rich.console import Console

import shared.achievement_tests as catalogue_data
from services.achievement import cli, generator, handlers
from services.achievement.domain import ID_PATTERN, Outcome, Result, ResultValues, classify, result_id
from services.achievement.events import Band
from services.achievement.rows import (
    CSV,
    XLSX,
    FileError,
    Row,
    csv_cells,
    detect_format,
    read_rows,
    xlsx_cells,
)
from shared.auth import Principal
from shared.catalog import catalog
from shared.errors import Forbidden
from tests.unit.fakes_achievement import FakeRepository

HEADER = "test,academic_year,school_code,subject,grade,mean,tested,band_0-49.99,band_50-100"
GOOD = [
    "onet,2568,13010001,math,P6,41.25,30,20,10",
    "nt,2568,13010001,literacy,P3,55.5,28,,",
    "gpa,2568,13010002,foreign_language,M3,3.12,25,,",
]
NATIONAL = handlers.Context(Principal("nat", "n", "national_officer", "national", None))
AREA_13P1 = handlers.Context(Principal("esa-13P1", "n", "esa_officer", "esa", "13P1"))


def csv_bytes(*lines: str, bom: bool = False) -> bytes:
    return (("\ufeff" if bom else "") + "\n".join([HEADER, *lines]) + "\n").encode()


def xlsx_bytes(*lines: str) -> bytes:
    book = Workbook()
    sheet = book.active
    for line in [HEADER, *lines]:
        sheet.append([_typed(cell) for cell in line.split(",")])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _typed(cell: str) -> Any:
    """As a spreadsheet holds it: numbers as numbers, empty cells as nothing."""
    if not cell:
        return None
    try:
        return int(cell)
    except ValueError:
        try:
            return float(cell)
        except ValueError:
            return cell


def parse(data: bytes, fmt: str = CSV) -> list[Row | list]:
    cells = csv_cells(io.BytesIO(data)) if fmt == CSV else xlsx_cells(io.BytesIO(data))
    return list(read_rows(cells))


def errors_of(line: str) -> list[tuple[int, str, str]]:
    (item,) = parse(csv_bytes(line))
    assert isinstance(item, list), item
    return [(e.line, e.column, e.message) for e in item]


def run(repo: FakeRepository, data: bytes, ctx: handlers.Context = NATIONAL, **kwargs: Any) -> dict[str, Any]:
    fmt = detect_format(data[:4])
    return handlers.import_results(io.BytesIO(data), "results.csv", fmt, repo, ctx, **kwargs)


# --- reading --------------------------------------------------------------------------------------------


def test_good_rows_are_read_with_their_lines_and_a_bom_is_dropped() -> None:
    rows = parse(csv_bytes(*GOOD, bom=True))
    assert [r.line for r in rows] == [2, 3, 4]
    first = rows[0].values
    assert first == ResultValues(
        "onet", 2568, "13010001", "math", "P6", 41.25, 30, [Band("0-49.99", 20), Band("50-100", 10)]
    )
    assert rows[1].values.distribution is None  # no band given: no distribution
    assert rows[2].values.grade == "M3"


def test_xlsx_and_csv_read_the_same() -> None:
    lines = [*GOOD, "", "onet,2568,13010001,thai,P6,abc,30,,"]
    from_csv, from_xlsx = parse(csv_bytes(*lines)), parse(xlsx_bytes(*lines), XLSX)
    assert from_csv == from_xlsx
    assert [r.line if isinstance(r, Row) else r[0].line for r in from_xlsx] == [2, 3, 4, 6]
    assert detect_format(xlsx_bytes(*GOOD)[:4]) == XLSX
    assert detect_format(b"test", "results.csv") == CSV


def test_case_and_spacing_of_names_and_codes_do_not_matter() -> None:
    data = b" Test ,ACADEMIC_YEAR,school_code,Subject,grade,mean,tested\nONET,2568,13010001,Math,p6,40,10\n"
    (row,) = parse(data)
    assert (row.values.test, row.values.subject, row.values.grade) == ("onet", "math", "P6")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "pisa,2568,13010001,math,P6,40,10,,",
            [(2, "test", "unknown test 'pisa' (known: onet, nt, rt, gpa)")],
        ),
        (
            "onet,2025,13010001,math,P6,40,10,,",
            [(2, "academic_year", "2025 is not a Buddhist-Era year 2500-2700 (a Buddhist-Era year: 2568?)")],
        ),
        ("onet,25x8,13010001,math,P6,40,10,,", [(2, "academic_year", "'25x8' is not a year")]),
        ("onet,2568,1301 0001,math,P6,40,10,,", [(2, "school_code", "'1301 0001' is not a school code")]),
        (
            "onet,2568,13010001,math,P3,40,10,,",
            [(2, "grade", "onet does not test grade P3 (it tests P6, M3, M6)")],
        ),
        (
            "onet,2568,13010001,social,P6,40,10,,",
            [(2, "subject", "onet P6 has no subject 'social' (thai, math, science, english)")],
        ),
        ("onet,2568,13010001,math,P6,100.5,10,,", [(2, "mean", "100.5 is outside the onet scale 0-100")]),
        ("gpa,2568,13010001,math,P6,4.2,10,,", [(2, "mean", "4.2 is outside the gpa scale 0-4")]),
        ("onet,2568,13010001,math,P6,-1,10,,", [(2, "mean", "-1 is outside the onet scale 0-100")]),
        ("onet,2568,13010001,math,P6,nan,10,,", [(2, "mean", "'nan' is not a number")]),
        ("onet,2568,13010001,math,P6,,10,,", [(2, "mean", "missing")]),
        ("onet,2568,13010001,math,P6,40,10.5,,", [(2, "tested", "'10.5' is not a whole number")]),
        ("onet,2568,13010001,math,P6,40,-3,,", [(2, "tested", "-3 is not 0-1000000")]),
        (
            "onet,2568,13010001,math,P6,40,0,,",
            [(2, "tested", "tested is 0 but the row gives a mean; leave out a result nobody sat")],
        ),
        (
            "onet,2568,13010001,math,P6,40,10,4,5",
            [(2, "band_0-49.99,band_50-100", "the bands add up to 9, not to tested (10)")],
        ),
        (
            "onet,2568,13010001,math,P6,40,10,10,",
            [(2, "band_50-100", "missing: a distribution gives every band (or none)")],
        ),
        ("onet,2568,13010001,math,P6,40,10,x,10", [(2, "band_0-49.99", "'x' is not a count of students")]),
        ("onet,2568,13010001,math,P6,40,10,,,extra", [(2, "", "the row has 10 cells but the header 9")]),
    ],
)
def test_each_rule_names_line_column_and_reason(line: str, expected: list[tuple[int, str, str]]) -> None:
    assert errors_of(line) == expected


def test_a_row_reports_every_bad_column() -> None:
    assert [c for _, c, _ in errors_of("onet,1999,13010001,math,P6,101,0,,")] == [
        "academic_year",
        "mean",
        "tested",
    ]


def test_a_bad_header_fails_the_file() -> None:
    with pytest.raises(FileError) as caught:
        parse(b"test,academic_year,school,subject,grade,mean,tested,band_$x\n")
    found = [(e.line, e.column, e.message) for e in caught.value.errors]
    assert (1, "school", "unknown column") in found
    assert (1, "school_code", "missing column") in found
    assert any(c == "band_$x" for _, c, _ in found)
    with pytest.raises(FileError):
        parse(b"")
    with pytest.raises(FileError, match="not UTF-8"):
        parse(HEADER.encode() + b"\nonet,2568,13010001,\xe0\xb9\x80\xc3,P6,40,10,,\n")
    with pytest.raises(FileError, match="XLSX"):
        parse(b"PK\x03\x04 not really a workbook", XLSX)


# --- ids and classification -----------------------------------------------------------------------------


def test_result_ids_are_readable_codes_and_long_keys_stay_unique() -> None:
    assert result_id("onet", 2568, "13010001", "math", "P6") == "onet-2568-13010001-math-P6"
    long_a = result_id("rt", 2568, "1013010001", "reading_comprehension", "P1")
    long_b = result_id("rt", 2568, "1013010002", "reading_comprehension", "P1")
    assert long_a != long_b
    for test in catalogue_data.tests().values():
        for grade, subjects in test.grades.items():
            for subject in subjects:
                assert ID_PATTERN.match(result_id(test.code, 2568, "1013010001", subject, grade))


def test_same_values_are_unchanged_and_other_values_correct() -> None:
    values = ResultValues("onet", 2568, "13010001", "math", "P6", 41.25, 30, {"a": 30})
    assert classify(None, values) is Outcome.NEW
    result, _ = Result.record(values, _school(), "imp-1", "nat")
    assert classify(result, values) is Outcome.UNCHANGED
    assert classify(result, ResultValues(**{**vars(values), "mean": 41.26})) is Outcome.CORRECTED
    assert classify(result, ResultValues(**{**vars(values), "tested": 31})) is Outcome.CORRECTED
    assert classify(result, ResultValues(**{**vars(values), "distribution": None})) is Outcome.CORRECTED


def _school() -> Any:
    from services.achievement.domain import School
    from tests.unit.fakes_achievement import SCHOOLS

    return School("13010001", SCHOOLS["13010001"])


# --- importing through the service layer ----------------------------------------------------------------


def test_a_first_import_stores_new_results_with_valid_events() -> None:
    repo = FakeRepository()
    summary = run(repo, csv_bytes(*GOOD))
    assert {k: summary[k] for k in ("rows", "new", "corrected", "unchanged", "status")} == {
        "rows": 3, "new": 3, "corrected": 0, "unchanged": 0, "status": "completed"
    }  # fmt: skip
    assert (summary["errors"], summary["good_rows_stored"]) == ([], False)
    assert repo.event_types() == ["achievement.ResultRecorded"] * 3
    for event in repo.outbox:
        catalog.check(event)
    first = repo.outbox[0]
    assert first["aggregate_id"] == "onet-2568-13010001-math-P6"
    assert first["org"] == {
        "school_code": "13010001",
        "cluster_id": "13P1-C01",
        "esa_code": "13P1",
        "province_code": "13",
    }
    assert first["payload"]["replaces"] is None
    assert first["payload"]["distribution"] == [
        {"band": "0-49.99", "students": 20},
        {"band": "50-100", "students": 10},
    ]
    assert first["payload"]["period"] == {"academic_year": 2568, "semester": 2}
    assert "distribution" not in repo.outbox[1]["payload"]  # none given: left out, never null
    stored = repo.get(Result, "onet-2568-13010001-math-P6")
    assert (stored.version, stored.import_id, stored.recorded_by) == (1, summary["import_id"], "nat")
    record = repo.imports[summary["import_id"]]
    assert (record["actor"], record["file_name"], record["new"], record["status"]) == (
        "nat",
        "results.csv",
        3,
        "completed",
    )
    assert [a["action"] for a in repo.audit] == ["import.start", *["result.record"] * 3]


def test_re_importing_writes_nothing_and_a_correction_names_what_it_replaces() -> None:
    repo = FakeRepository()
    run(repo, csv_bytes(*GOOD))
    saves, events = repo.saves, len(repo.outbox)
    again = run(repo, xlsx_bytes(*GOOD))  # the same values from a workbook
    assert (again["new"], again["corrected"], again["unchanged"]) == (0, 0, 3)
    assert (repo.saves, len(repo.outbox)) == (saves, events)

    fixed = run(repo, csv_bytes("onet,2568,13010001,math,P6,42.5,31,21,10", *GOOD[1:]))
    assert (fixed["new"], fixed["corrected"], fixed["unchanged"]) == (0, 1, 2)
    (event,) = repo.outbox[events:]
    catalog.check(event)
    assert event["payload"]["replaces"] == {"mean": 41.25, "tested": 30}
    assert (event["payload"]["mean"], event["payload"]["tested"], event["aggregate_version"]) == (42.5, 31, 2)
    assert repo.get(Result, "onet-2568-13010001-math-P6").version == 2
    assert repo.audit[-1]["action"] == "result.correct"
    assert repo.audit[-1]["before"]["mean"] == 41.25


def test_bad_rows_are_skipped_and_good_rows_of_the_same_file_are_stored() -> None:
    repo = FakeRepository()
    summary = run(
        repo,
        csv_bytes(
            GOOD[0],
            "onet,2568,99999999,math,P6,40,10,5,5",  # unknown school
            "onet,2568,13010001,math,P6,40,10,5,5",  # repeats line 2
            "onet,2568,13010001,thai,P6,140,10,5,5",  # out of scale
            GOOD[1],
        ),
    )
    assert (summary["rows"], summary["new"], summary["failed_rows"], summary["status"]) == (
        5,
        2,
        3,
        "completed_with_errors",
    )
    assert [(e["line"], e["column"]) for e in summary["errors"]] == [(3, "school_code"), (4, ""), (5, "mean")]
    assert "repeats line 2" in summary["errors"][1]["message"]
    assert summary["good_rows_stored"] is True and "skipped" in summary["note"]
    assert sorted(k for _, k in repo.entities) == [
        "nt-2568-13010001-literacy-P3",
        "onet-2568-13010001-math-P6",
    ]
    assert repo.imports[summary["import_id"]]["errors"] == summary["errors"]


def test_an_esa_officer_imports_only_their_area() -> None:
    repo = FakeRepository()
    summary = run(repo, csv_bytes(GOOD[0], "onet,2568,50010001,math,P6,40,10,5,5"), AREA_13P1)
    assert summary["new"] == 1
    assert summary["errors"] == [
        {"line": 3, "column": "school_code", "message": "school 50010001 is outside your scope"}
    ]
    assert repo.imports[summary["import_id"]]["scope"] == {"level": "esa", "code": "13P1"}
    teacher = handlers.Context(Principal("t", "t", "teacher", "school", "13010001"))
    with pytest.raises(Forbidden):
        run(repo, csv_bytes(*GOOD), teacher)


def test_a_big_file_goes_in_batches_with_progress() -> None:
    repo = FakeRepository()
    lines = [f"gpa,{year},13010001,{s},{g},3.0,20,," for year in range(2560, 2570) for g in ("P1", "P2", "P3") for s in ("thai", "math", "science", "arts", "career", "social", "health_pe", "foreign_language")]  # fmt: skip
    seen: list[int] = []
    summary = run(repo, csv_bytes(*lines), batch_size=50, progress=seen.append)
    assert summary["new"] == len(lines) == 240
    assert repo.lookups == 2 * 5  # one school query and one results query per batch
    assert seen == [240]  # (a call every 250 rows, and one at the end)


def test_a_conflicting_writer_is_retried_once() -> None:
    class Racing(FakeRepository):
        raced = False

        def save(self, entity: Result, events: list, audit: list) -> None:
            if not self.raced:  # another import stores the same key first
                self.raced = True
                other, _evs = Result.record(
                    ResultValues("onet", 2568, "13010001", "math", "P6", 10.0, 30, None),
                    _school(),
                    "imp-x",
                    "x",
                )
                super().save(other, [], [])
            super().save(entity, events, audit)

    repo = Racing()
    summary = run(repo, csv_bytes(GOOD[0]))
    assert (summary["new"], summary["corrected"]) == (0, 1)
    assert repo.outbox[-1]["payload"]["replaces"] == {"mean": 10.0, "tested": 30}


# --- generator and CLI ----------------------------------------------------------------------------------


def test_the_generator_is_deterministic_valid_and_has_a_small_cell(tmp_path: Path) -> None:
    schools = generator.read_schools()
    rows = generator.generate(schools, year=2568, seed=7)
    assert rows == generator.generate(schools, year=2568, seed=7)
    assert rows != generator.generate(schools, year=2567, seed=7)
    parsed = parse(generator.to_csv(rows))
    assert all(isinstance(r, Row) for r in parsed), [r for r in parsed if not isinstance(r, Row)][:3]
    tests_sat = {(r.values.test, r.values.grade) for r in parsed}
    assert {
        ("rt", "P1"),
        ("nt", "P3"),
        ("onet", "P6"),
        ("onet", "M3"),
        ("onet", "M6"),
        ("gpa", "P6"),
    } <= tests_sat
    assert any(r.values.tested < 5 for r in parsed)
    secondary = {r.values.grade for r in parsed if r.values.school_code == "13510001"}
    assert secondary <= {"M3", "M6"}


def test_the_cli_imports_a_generated_file_and_exits_1_on_row_errors(tmp_path: Path) -> None:
    repo = FakeRepository()
    out = tmp_path / "results.csv"
    console = Console(file=io.StringIO(), width=120)
    assert cli.main(["generate", str(out), "--year", "2568"], console=console) == 0
    total = out.read_bytes().count(b"\n") - 1
    code = cli.main(["import", str(out), "--as-user", "ops-1"], repository=lambda _: repo, console=console)
    # the fake directory lacks most demo schools: those rows are errors, the others are stored
    assert code == 1
    summary = next(iter(repo.imports.values()))
    assert (summary["rows"], summary["actor"]) == (total, "ops-1")
    assert summary["new"] > 0 and summary["failed_rows"] > 0
    assert "achievement import" in console.file.getvalue()
    repo.school_orgs = {
        c.code: repo.school_orgs.get(c.code) or repo.school_orgs["13010001"] for c in generator.read_schools()
    }
    assert cli.main(["import", str(out)], repository=lambda _: repo, console=console) == 0
    assert (
        cli.main(["import", str(tmp_path / "missing.csv")], repository=lambda _: repo, console=console) == 2
    )
