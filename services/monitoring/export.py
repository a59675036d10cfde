"""Tables as downloads: CSV and XLSX from flat rows, and the tables of each kind of export.

- `flatten` makes one row of a nested record: nested dicts become dotted columns
  (`supervision.coverage`, `committee.attendance.parent.present`); lists are left out, since a cell holds one
  value (a list such as `achievement.results` is a table of its own, exported as its own kind).
- CSV is UTF-8 with a byte-order mark, so Excel shows Thai as Thai, with CRLF line ends (RFC 4180).
- XLSX has a bold, frozen header row.
- Text that a spreadsheet would run as a formula (starting with = + - @) is written as text: in CSV with a
  leading apostrophe, in XLSX as a string cell. Times and dates are ISO 8601 text; None is an empty cell.

Each kind of export is a function returning `(rows, columns)`; `download` sends any of them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_COLUMN_WIDTH = 40

Row = dict[str, Any]
Table = tuple[list[Row], list[str]]


def flatten(record: dict[str, Any], prefix: str = "") -> Row:
    """Nested dicts as dotted columns; lists are left out."""
    flat: Row = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif not isinstance(value, list | tuple):
            flat[name] = value
    return flat


def columns_of(rows: Iterable[Row]) -> list[str]:
    """Every column of the rows, in order: a column only some rows have comes after its row's previous column
    (at the end when it is the row's first)."""
    columns: list[str] = []
    for row in rows:
        at = len(columns)
        for key in row:
            if key in columns:
                at = columns.index(key) + 1
            else:
                columns.insert(at, key)
                at += 1
    return columns


def to_csv(rows: Iterable[Row], columns: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([_csv_cell(row.get(column)) for column in columns] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(rows: Iterable[Row], columns: Sequence[str], sheet: str) -> bytes:
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = _sheet_title(sheet)
    worksheet.append(list(columns))
    for cell in worksheet[1]:
        cell.font = Font(bold=True)
    worksheet.freeze_panes = "A2"
    for r, row in enumerate(rows, start=2):
        for c, column in enumerate(columns, start=1):
            value = _xlsx_value(row.get(column))
            cell = worksheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula
    for c, column in enumerate(columns, start=1):
        width = min(max(len(column), 10) + 2, MAX_COLUMN_WIDTH)
        worksheet.column_dimensions[get_column_letter(c)].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def download(rows: list[Row], columns: Sequence[str], filename: str, fmt: str) -> Response:
    """An attachment `<filename>.<fmt>` (the name reduced to ASCII letters, digits, `.`, `_` and `-`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {sorted(FORMATS)}")
    name = ascii_name(filename)
    body = to_csv(rows, columns) if fmt == "csv" else to_xlsx(rows, columns, sheet=name)
    response = Response(body, content_type=FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def ascii_name(name: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]+", "-", name)).strip("-.") or "export"


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return f"'{value}" if value.startswith(FORMULA_START) else value
    return str(value)


def _xlsx_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()  # Excel has no time zones: ISO text keeps the offset
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _sheet_title(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "-", name)[:31] or "Sheet"


# --- the kinds of export: each returns (rows, columns) ------------------------------------------------------

VIEW_LEFT_OUT = ("parent", "period", "age_seconds", "children")
INDICATOR_COLUMNS = [
    "academic_year",
    "semester",
    "level",
    "code",
    "name_th",
    "name_en",
    "indicator_code",
    "indicator_name_th",
    "indicator_name_en",
    "indicator_unit",
    "direction",
    "value",
    "target",
    "at_risk",
    "status",
    "status_th",
    "status_en",
]


def view_table(view: dict[str, Any]) -> Table:
    """A `read_view` result: one row per unit, the unit first and then its children, figures flattened."""
    period = {"academic_year": view["period"]["academic_year"], "semester": view["period"]["semester"]}
    units = [view, *view.get("children", [])]
    rows = [
        {**period, **flatten({k: v for k, v in unit.items() if k not in VIEW_LEFT_OUT})} for unit in units
    ]
    return rows, columns_of(rows)


def indicator_table(table: dict[str, Any]) -> Table:
    """An `indicators.evaluate_view` result: one row per unit and indicator, the unit first."""
    period = {"academic_year": table["period"]["academic_year"], "semester": table["period"]["semester"]}
    rows = [
        {**period, **_unit_columns(unit), **_indicator_columns(indicator)}
        for unit in [table["unit"], *table.get("children", [])]
        for indicator in unit["indicators"]
    ]
    return rows, list(INDICATOR_COLUMNS)


def _unit_columns(unit: dict[str, Any]) -> Row:
    return {key: unit.get(key) for key in ("level", "code", "name_th", "name_en")}


def _indicator_columns(indicator: dict[str, Any]) -> Row:
    renamed = {"code": "indicator_code", "name_th": "indicator_name_th", "name_en": "indicator_name_en"}
    renamed["unit"] = "indicator_unit"
    return {renamed.get(key, key): value for key, value in indicator.items()}


def what_works_table(analysis: dict[str, Any]) -> Table:
    """A `what_works` result: one row per group, grouped by model mix then by activity intensity."""
    head = {key: analysis[key] for key in ("level", "code", "name_th", "name_en", "academic_year")}
    rows = [
        {**head, "grouping": "mix", **group, "mix": "+".join(group["mix"]) or "none"}
        for group in analysis["by_mix"]
    ] + [{**head, "grouping": "intensity", **group} for group in analysis["by_intensity"]]
    return rows, columns_of(rows)
