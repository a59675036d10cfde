"""Exports: flattening, CSV and XLSX bytes, downloads and the tables of each kind."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook

from services.monitoring import export, indicators
from shared.calendar import Period

THAI = "โรงเรียนบ้านหนองบัว"


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(body: bytes) -> Any:
    return load_workbook(io.BytesIO(body)).active


def test_flatten_makes_dotted_columns_and_leaves_lists_out() -> None:
    record = {
        "code": "13P1",
        "supervision": {"coverage": 0.5, "rubric_mean_by_domain": {"assessment": 3.0}},
        "committee": {"attendance": {"parent": {"present": 2}}, "last_meeting_date": None},
        "achievement": {"onet_mean": 41.2, "results": [{"subject": "thai"}]},
        "tags": ("a",),
        "empty": {},
    }
    assert export.flatten(record) == {
        "code": "13P1",
        "supervision.coverage": 0.5,
        "supervision.rubric_mean_by_domain.assessment": 3.0,
        "committee.attendance.parent.present": 2,
        "committee.last_meeting_date": None,
        "achievement.onet_mean": 41.2,
    }


def test_columns_keep_a_columns_neighbours() -> None:
    rows = [{"a": 1, "c": 3}, {"a": 1, "b": 2, "c": 3, "d": 4}, {"e": 5}]
    assert export.columns_of(rows) == ["a", "b", "c", "d", "e"]
    assert export.columns_of(rows[:2]) == ["a", "b", "c", "d"]


def test_csv_has_a_bom_and_round_trips_thai() -> None:
    rows = [
        {"code": "13010001", "name_th": THAI, "coverage": 0.6667, "visits": 3, "date": None},
        {"code": "13010002", "name_th": 'ชื่อ "มี" เครื่องหมาย, จุลภาค', "coverage": None, "visits": 0},
    ]
    body = export.to_csv(rows, ["code", "name_th", "coverage", "visits", "date"])
    assert b"\r\n" in body
    assert read_csv(body) == [
        ["code", "name_th", "coverage", "visits", "date"],
        ["13010001", THAI, "0.6667", "3", ""],
        ["13010002", 'ชื่อ "มี" เครื่องหมาย, จุลภาค', "", "0", ""],
    ]


def test_csv_writes_times_as_iso_and_defuses_formulas() -> None:
    at = datetime(2026, 11, 20, 3, 4, 5, tzinfo=UTC)
    rows = [{"as_of": at, "name": "=HYPERLINK(1)", "ok": True, "change": -3.5, "note": "-x"}]
    body = export.to_csv(rows, ["as_of", "name", "ok", "change", "note"])
    assert read_csv(body)[1] == ["2026-11-20T03:04:05+00:00", "'=HYPERLINK(1)", "true", "-3.5", "'-x"]


def test_xlsx_has_a_bold_frozen_header_and_the_values() -> None:
    at = datetime(2026, 11, 20, 3, 4, 5, tzinfo=UTC)
    rows = [
        {"code": "13010001", "name_th": THAI, "coverage": 0.6667, "visits": 3, "as_of": at},
        {"code": "13010002", "name_th": "=1+1", "coverage": None, "visits": 0, "as_of": None},
    ]
    columns = ["code", "name_th", "coverage", "visits", "as_of"]
    sheet = read_xlsx(export.to_xlsx(rows, columns, "view-esa-13P1-2569-2"))
    assert sheet.title == "view-esa-13P1-2569-2"
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    values = list(sheet.iter_rows(values_only=True))
    assert values == [
        tuple(columns),
        ("13010001", THAI, 0.6667, 3, "2026-11-20T03:04:05+00:00"),
        ("13010002", "=1+1", None, 0, None),
    ]
    assert sheet["B3"].data_type == "s"  # text, not a formula


def test_xlsx_sheet_titles_are_valid() -> None:
    sheet = read_xlsx(export.to_xlsx([], ["a"], "a/b:c*d?[e]-and-a-very-long-name-indeed"))
    assert sheet.title == "a-b-c-d--e--and-a-very-long-nam" and len(sheet.title) == 31
    assert list(sheet.iter_rows(values_only=True)) == [("a",)]


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("csv", "text/csv; charset=utf-8"), ("xlsx", export.XLSX_TYPE)],
)
def test_download_is_an_attachment_with_an_ascii_name(fmt: str, content_type: str) -> None:
    with Flask(__name__).app_context():
        response = export.download([{"a": THAI}], ["a"], f"view-{THAI}-13P1 2569/2", fmt)
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Content-Disposition"] == f'attachment; filename="view-13P1-2569-2.{fmt}"'
    body = response.get_data()
    if fmt == "csv":
        assert read_csv(body)[1] == [THAI]
    else:
        assert read_xlsx(body)["A2"].value == THAI


def test_download_rejects_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown export format 'pdf'"):
        export.download([], ["a"], "x", "pdf")


def test_ascii_name_never_empty() -> None:
    assert export.ascii_name(THAI) == "export"
    assert export.ascii_name("indicators-esa-13P1-2569-2") == "indicators-esa-13P1-2569-2"


def unit(code: str, coverage: float | None, **extra: Any) -> dict[str, Any]:
    return {
        "level": "school",
        "code": code,
        "name_th": f"โรงเรียน {code}",
        "name_en": f"School {code}",
        "org": {"school_code": code, "esa_code": "13P1"},
        "as_of": None,
        "supervision": {"coverage": coverage, **extra},
        "achievement": {"onet_mean": 40.0, "onet_change": None, "results": [{"mean": 1}]},
    }


def view() -> dict[str, Any]:
    return {
        **unit("13P1", 0.5),
        "level": "esa",
        "parent": {"level": "province", "code": "13"},
        "period": {"academic_year": 2569, "semester": 2, "label_th": "ภาคเรียนที่ 2/2569"},
        "age_seconds": 3.0,
        "children": [unit("13010001", 1.0, rubric_mean_by_domain={"assessment": 3.0}), unit("13010002", 0.0)],
    }


def test_view_table_has_one_row_per_unit_the_unit_first() -> None:
    rows, columns = export.view_table(view())
    assert [r["code"] for r in rows] == ["13P1", "13010001", "13010002"]
    assert columns[:4] == ["academic_year", "semester", "level", "code"]
    assert "supervision.rubric_mean_by_domain.assessment" in columns
    assert (
        columns.index("supervision.rubric_mean_by_domain.assessment")
        == columns.index("supervision.coverage") + 1
    )
    assert "achievement.onet_mean" in columns and not any("results" in c for c in columns)
    assert not {"parent", "period", "age_seconds", "children"} & {c.split(".")[0] for c in columns}
    assert rows[0]["org.esa_code"] == "13P1" and rows[1]["supervision.coverage"] == 1.0
    assert rows[2]["semester"] == 2


def test_indicator_table_has_one_row_per_unit_and_indicator() -> None:
    catalogue = indicators.base_catalogue()
    table = indicators.evaluate_view(view(), Period(2569, 2), catalogue)
    rows, columns = export.indicator_table(table)
    assert len(rows) == 3 * len(catalogue)
    assert columns == export.INDICATOR_COLUMNS and all(set(r) == set(columns) for r in rows)
    first = rows[0]
    assert (first["code"], first["indicator_code"], first["value"]) == ("13P1", "supervision_coverage", 0.5)
    assert (first["target"], first["at_risk"], first["status"]) == (1.0, 0.7, "off_track")
    assert first["indicator_unit"] == "share" and first["status_th"] == "ไม่เป็นไปตามเป้าหมาย"
    coverage = [r for r in rows if r["indicator_code"] == "supervision_coverage"]
    assert [(r["code"], r["status"]) for r in coverage] == [
        ("13P1", "off_track"),
        ("13010001", "on_track"),
        ("13010002", "off_track"),
    ]
