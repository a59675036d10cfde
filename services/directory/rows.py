"""Reading and checking rows of the master-data CSV files (pure: no store).

A row passes its file's strict schema, then the domain rules against the reference records. Errors carry
the line a spreadsheet shows: the header is line 1, the first data row line 2 (blank rows count too).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from marshmallow import ValidationError

from services.directory.domain import CLUSTER, Kind, Record, Reference, cluster_province, org_of, problems
from services.directory.schemas import ROW_SCHEMAS, columns


@dataclass(frozen=True)
class RowError:
    file: str
    line: int  # as a spreadsheet shows it: the header is line 1, the first data row line 2
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}, {self.column or 'row'}: {self.message}"


@dataclass(frozen=True)
class Row:
    line: int
    data: dict[str, Any]


def read_rows(kind: Kind, stream: TextIO, file_name: str | None = None) -> Iterator[Row | RowError]:
    """Parse and schema-check each row. A bad header fails the whole file (one error per column)."""
    file_name = file_name or kind.file
    schema = ROW_SCHEMAS[kind.name]()
    reader = csv.reader(stream)
    header = [name.strip() for name in next(reader, [])]
    header_errors = _header_errors(header, schema, file_name)
    if header_errors:
        yield from header_errors
        return
    for line, cells in enumerate(reader, start=2):
        if any(cell.strip() for cell in cells):
            yield _load_row(schema, header, cells, line, file_name)


def _header_errors(header: list[str], schema: Any, file_name: str) -> list[RowError]:
    if not header:
        return [RowError(file_name, 1, "", "the file has no header row")]
    known, required = columns(schema)
    errors = [RowError(file_name, 1, name, "unknown column") for name in header if name not in known]
    errors += [RowError(file_name, 1, name, "missing column") for name in sorted(required - set(header))]
    errors += [
        RowError(file_name, 1, name, "column appears twice")
        for name in sorted({n for n in header if header.count(n) > 1})
    ]
    return errors


def _load_row(schema: Any, header: list[str], cells: list[str], line: int, file_name: str) -> Row | RowError:
    if len(cells) > len(header):
        return RowError(file_name, line, "", f"the row has {len(cells)} cells but the header {len(header)}")
    # An empty cell is a missing value: optional columns take their default, required ones say so.
    raw = {name: cell.strip() for name, cell in zip(header, cells, strict=False) if cell.strip()}
    try:
        return Row(line, schema.load(raw))
    except ValidationError as err:
        return _row_error(err.messages, line, file_name)


def _row_error(messages: Any, line: int, file_name: str) -> RowError:
    """One error per row, naming every bad column (the row is rejected either way)."""
    if not isinstance(messages, dict):
        return RowError(file_name, line, "", str(messages))
    names = sorted(str(c) for c in messages)
    text = "; ".join(_flatten(messages[c]) for c in sorted(messages, key=str))
    return RowError(file_name, line, ", ".join(names), text)


def _flatten(message: Any) -> str:
    if isinstance(message, dict):
        return "; ".join(_flatten(m) for m in message.values())
    if isinstance(message, list):
        return "; ".join(_flatten(m) for m in message)
    return str(message)


def to_record(kind: Kind, data: dict[str, Any], reference: Reference) -> Record:
    values = {**data, "effective_from": data["effective_from"].isoformat()}
    if kind is CLUSTER:
        values["province_code"] = cluster_province(values["esa_code"], reference)
        values["models"] = tuple(values["models"])
    return kind.record_type(**values)


def check_row(kind: Kind, row: Row, reference: Reference, file_name: str) -> Record | list[RowError]:
    """The row's record, or the rules it breaks against the reference records."""
    record = to_record(kind, row.data, reference)
    found = problems(record, reference)
    return [RowError(file_name, row.line, c, m) for c, m in found] if found else record


class RowChecker:
    """Schema-checked rows through the domain rules, plus the in-file rule: a key may appear again only
    with another effective date (a file may carry a record's history)."""

    def __init__(self, kind: Kind, reference: Reference, file_name: str) -> None:
        self.kind, self.reference, self.file_name = kind, reference, file_name
        self.last_seen: dict[str, tuple[str, int]] = {}  # key -> (effective_from, line)

    def check(self, item: Row | RowError) -> Record | list[RowError]:
        if isinstance(item, RowError):
            return [item]
        checked = check_row(self.kind, item, self.reference, self.file_name)
        if isinstance(checked, list):
            return checked
        earlier = self.last_seen.get(checked.key)
        if earlier and earlier[0] == checked.effective_from:
            message = f"repeats line {earlier[1]} (same {self.kind.key_field} and effective_from)"
            return [RowError(self.file_name, item.line, self.kind.key_field, message)]
        self.last_seen[checked.key] = (checked.effective_from, item.line)
        return checked


def validate_file(
    kind: Kind, stream: TextIO, reference: Reference, file_name: str | None = None
) -> tuple[list[tuple[int, Record]], list[RowError]]:
    """Check a whole file without storing anything; good rows join `reference` as they pass."""
    checker = RowChecker(kind, reference, file_name or kind.file)
    good: list[tuple[int, Record]] = []
    errors: list[RowError] = []
    for item in read_rows(kind, stream, checker.file_name):
        checked = checker.check(item)
        if isinstance(checked, list):
            errors += checked
        else:
            reference.remember(checked, org_of(checked, reference))
            good.append((item.line, checked))
    return good, errors
