"""Reading and checking the rows of a results file (pure: no store).

A file is CSV (UTF-8, with or without a BOM) or XLSX (the first sheet). The first row names the columns
(case-insensitively): `test, academic_year, school_code, subject, grade, mean, tested`, and optionally a score
distribution as `band_<label>` columns (e.g. `band_0-19.99`), whose counts must add up to `tested`.

Errors carry the line a spreadsheet shows: the header is line 1, the first data row line 2 (blank rows count
too), and the column. A row may have several errors (one per bad column); nothing of such a row is stored.
The checks that need the store (the school exists, the caller's scope covers it) are the service layer's.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO

from services.achievement.domain import ResultValues
from services.achievement.events import Band
from shared.achievement_tests import tests

CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)
XLSX_MAGIC = b"PK\x03\x04"
REQUIRED = ("test", "academic_year", "school_code", "subject", "grade", "mean", "tested")
BAND_PREFIX = "band_"
BAND_LABEL = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_ -]{0,29}$")
CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
YEARS = (2500, 2700)
BE_OFFSET = 543
MAX_TESTED = 1_000_000


@dataclass(frozen=True)
class RowError:
    line: int  # as a spreadsheet shows it: the header is line 1, the first data row line 2
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class Row:
    line: int
    values: ResultValues


class FileError(Exception):
    """A file that cannot be read at all (not UTF-8, not a workbook, no usable header)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def detect_format(data_start: bytes, file_name: str = "") -> str:
    """XLSX when the bytes are a zip (a workbook) or the name says so; CSV otherwise."""
    if data_start.startswith(XLSX_MAGIC) or file_name.lower().endswith(".xlsx"):
        return XLSX
    return CSV


# --- raw cells ------------------------------------------------------------------------------------------


def csv_cells(stream: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet line, cells) of a UTF-8 CSV; a BOM is dropped."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    line = 0
    try:
        for line, cells in enumerate(reader, start=1):
            yield line, cells
    except UnicodeDecodeError:
        # Thai data often comes as TIS-620 (Windows-874): say so instead of failing with a traceback
        raise FileError(
            [RowError(line + 1, "", "the file is not UTF-8 text from about here on; save it as 'CSV UTF-8'")]
        ) from None
    except csv.Error as err:
        raise FileError([RowError(line + 1, "", f"not readable as CSV: {err}")]) from None


def xlsx_cells(stream: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    """(sheet row, cells as text) of the first sheet of a workbook, read in streaming mode."""
    from openpyxl import load_workbook  # only when a workbook comes

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises zip, XML and key errors alike for a broken file
        raise FileError([RowError(1, "", f"not a readable XLSX workbook: {type(err).__name__}")]) from None
    try:
        sheet = book.worksheets[0]
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, [_cell_text(v) for v in values]
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    """A workbook cell as the text a CSV export would hold (12.0 is 12; a date is ISO)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def count_rows(stream: BinaryIO, fmt: str) -> int | None:
    """Data rows, roughly (for a progress bar): lines minus the header of a CSV, the sheet's extent of a
    workbook; None when a workbook does not say."""
    if fmt == XLSX:
        from openpyxl import load_workbook

        try:
            book = load_workbook(stream, read_only=True)
            rows = book.worksheets[0].max_row
            book.close()
        except Exception:
            return None
        return max(rows - 1, 0) if rows else None
    count = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
    return max(count - 1, 0)


# --- header and rows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    columns: dict[str, int]  # required column -> index
    bands: dict[str, int]  # band label -> index
    width: int


def read_header(cells: list[str]) -> Header:
    columns: dict[str, int] = {}
    bands: dict[str, int] = {}
    errors: list[RowError] = []
    seen: set[str] = set()
    for i, raw in enumerate(cells):
        name = raw.strip().strip("\ufeff")
        folded = name.casefold()
        if not name:
            continue
        if folded in seen:
            errors.append(RowError(1, name, "column appears twice"))
            continue
        seen.add(folded)
        if folded in REQUIRED:
            columns[folded] = i
        elif folded.startswith(BAND_PREFIX):
            label = name[len(BAND_PREFIX) :].strip()
            if not BAND_LABEL.match(label):
                errors.append(RowError(1, name, "a band label is 1-30 letters, digits, '.', '-', '+' or '_'"))
            else:
                bands[label] = i
        else:
            errors.append(RowError(1, name, "unknown column"))
    errors += [RowError(1, name, "missing column") for name in REQUIRED if name not in columns]
    if errors:
        raise FileError(errors)
    return Header(columns, bands, len(cells))


def read_rows(cells: Iterator[tuple[int, list[str]]]) -> Iterator[Row | list[RowError]]:
    """Checked rows, or each row's errors. A bad or missing header fails the whole file (FileError)."""
    first = next(cells, None)
    if first is None or not any(c.strip() for c in first[1]):
        raise FileError([RowError(1, "", "the file has no header row")])
    header = read_header(first[1])
    for line, raw in cells:
        if any(cell.strip() for cell in raw):
            yield check_row(line, raw, header)


def check_row(line: int, raw: list[str], header: Header) -> Row | list[RowError]:
    """The row's values, or every rule it breaks that can be told without the store."""
    if len([c for c in raw[header.width :] if c.strip()]):
        return [RowError(line, "", f"the row has {len(raw)} cells but the header {header.width}")]
    cell = {name: _at(raw, i) for name, i in header.columns.items()}
    errors: list[RowError] = []

    def fail(column: str, message: str) -> None:
        errors.append(RowError(line, column, message))

    test = tests().get(cell["test"].casefold())
    if test is None:
        fail("test", f"unknown test {cell['test']!r} (known: {', '.join(tests())})")
    year = _integer(cell["academic_year"])
    if year is None:
        fail("academic_year", f"{cell['academic_year']!r} is not a year")
    elif not YEARS[0] <= year <= YEARS[1]:
        hint = f" (a Buddhist-Era year: {year + BE_OFFSET}?)" if 1957 <= year <= 2157 else ""
        fail("academic_year", f"{year} is not a Buddhist-Era year {YEARS[0]}-{YEARS[1]}{hint}")
    school_code = cell["school_code"]
    if not CODE.match(school_code):
        fail("school_code", f"{school_code!r} is not a school code")
    subject, grade = cell["subject"].casefold(), cell["grade"].upper()
    if not subject:
        fail("subject", "missing")
    if not grade:
        fail("grade", "missing")
    if test is not None and subject and grade and not test.covers(grade, subject):
        if grade not in test.grades:
            fail("grade", f"{test.code} does not test grade {grade} (it tests {', '.join(test.grades)})")
        else:
            fail(
                "subject", f"{test.code} {grade} has no subject {subject!r} ({', '.join(test.grades[grade])})"
            )
    mean = _number(cell["mean"])
    if mean is None:
        fail("mean", f"{cell['mean']!r} is not a number" if cell["mean"] else "missing")
    elif test is not None and not test.in_scale(mean):
        low, high = test.scale
        fail("mean", f"{mean:g} is outside the {test.code} scale {low:g}-{high:g}")
    tested = _integer(cell["tested"])
    if tested is None:
        fail("tested", f"{cell['tested']!r} is not a whole number" if cell["tested"] else "missing")
    elif not 0 <= tested <= MAX_TESTED:
        fail("tested", f"{tested} is not 0-{MAX_TESTED}")
    elif tested == 0:
        fail("tested", "tested is 0 but the row gives a mean; leave out a result nobody sat")
    distribution = _distribution(line, raw, header, tested, errors)
    if errors:
        return errors
    assert test is not None and year is not None and mean is not None and tested is not None
    values = ResultValues(test.code, year, school_code, subject, grade, mean, tested, distribution)
    return Row(line, values)


def _distribution(
    line: int, raw: list[str], header: Header, tested: int | None, errors: list[RowError]
) -> list[Band] | None:
    """The band counts, when the row gives them: every band or none, each a count, adding up to `tested`."""
    cells = {label: _at(raw, i) for label, i in header.bands.items()}
    given = {label: text for label, text in cells.items() if text}
    if not given:
        return None
    failed = False
    for label, text in cells.items():
        column = BAND_PREFIX + label
        if not text:
            errors.append(RowError(line, column, "missing: a distribution gives every band (or none)"))
            failed = True
        elif (count := _integer(text)) is None or count < 0:
            errors.append(RowError(line, column, f"{text!r} is not a count of students"))
            failed = True
    if failed:
        return None
    distribution = [Band(label, int(_integer(text) or 0)) for label, text in cells.items()]
    total = sum(b.students for b in distribution)
    if tested is not None and total != tested:
        columns = ",".join(BAND_PREFIX + label for label in cells)
        errors.append(RowError(line, columns, f"the bands add up to {total}, not to tested ({tested})"))
    return distribution


def _at(raw: list[str], index: int) -> str:
    return raw[index].strip() if index < len(raw) else ""


def _number(text: str) -> float | None:
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _integer(text: str) -> int | None:
    value = _number(text)
    if value is None or not value.is_integer():
        return None
    return int(value)
