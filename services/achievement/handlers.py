"""The service layer: importing results files, and reading results and imports.

Authorization is `shared.auth.authorize` against the role table `POLICY` and the school's org path. An import
is checked row by row: a row for a school outside the caller's scope is a row error ("outside your scope"),
like any other bad row. Reads of an object outside the caller's scope answer 404 (its existence is not
leaked).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from services.achievement.domain import Outcome, Result, ResultValues, School, classify
from services.achievement.repository import AbstractRepository
from services.achievement.rows import CSV, FileError, Row, RowError, csv_cells, read_rows, xlsx_cells
from shared.auth import Principal, authorize
from shared.envelope import utcnow
from shared.errors import Conflict, Forbidden, NotFound
from shared.repository import encode
from shared.schemas import org_query
from shared.service_layer import Context, Producer

SYSTEM_ACTOR = "system:achievement"
PRODUCER = Producer("achievement", SYSTEM_ACTOR, "services.achievement")
system_audit = PRODUCER.system_audit

# Who may do what. `shared.auth.authorize` also lets "admin" do anything, and the scope check limits every
# role to its org unit: an ESA officer imports and reads its area's schools, a national officer any school.
IMPORTERS = ("esa_officer", "national_officer")
READERS = (
    "esa_officer",
    "supervisor",
    "school_director",
    "teacher",
    "cluster_coordinator",
    "province_officer",
    "national_officer",
)
POLICY: dict[str, tuple[str, ...]] = {
    "result.import": IMPORTERS,
    "import.read": IMPORTERS,
    "result.read": READERS,
}
LIST_FILTERS = ("test", "subject", "grade")

BATCH_SIZE = 500  # rows checked against the store with one query per batch
MAX_STORED_ERRORS = 1000  # an import record keeps the first errors; the answer has them all
RUNNING, COMPLETED, COMPLETED_WITH_ERRORS, FAILED, ABORTED = (
    "running",
    "completed",
    "completed_with_errors",
    "failed",
    "aborted",
)
PARTIAL_NOTE = "rows with errors were skipped and nothing of them was stored; every other row was stored"

Progress = Callable[[int], None]  # rows read so far


@dataclass
class Summary:
    import_id: str
    file_name: str
    format: str
    started_at: datetime
    rows: int = 0
    new: int = 0
    corrected: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    failed_lines: set[int] = field(default_factory=set)
    status: str = RUNNING
    finished_at: datetime | None = None

    @property
    def good(self) -> int:
        return self.new + self.corrected + self.unchanged

    def fail(self, errors: list[RowError]) -> None:
        self.errors += errors
        self.failed_lines.update(e.line for e in errors)

    def finish(self, status: str | None = None) -> None:
        self.finished_at = utcnow()
        self.errors.sort(key=lambda e: e.line)  # file order (store checks come after the batch's own)
        if status is None:
            status = COMPLETED if not self.errors else COMPLETED_WITH_ERRORS if self.good else FAILED
        self.status = status

    def counts(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "new": self.new,
            "corrected": self.corrected,
            "unchanged": self.unchanged,
            "failed_rows": len(self.failed_lines),
            "error_count": len(self.errors),
            "status": self.status,
            "finished_at": self.finished_at,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "file_name": self.file_name,
            "format": self.format,
            "started_at": self.started_at,
            **self.counts(),
            "errors": [e.as_dict() for e in self.errors],
            "good_rows_stored": bool(self.errors) and self.good > 0,
            "note": PARTIAL_NOTE if self.errors and self.good else "",
        }


# --- importing ------------------------------------------------------------------------------------------


def import_results(
    stream: BinaryIO,
    file_name: str,
    fmt: str,
    repo: AbstractRepository,
    ctx: Context,
    *,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> dict[str, Any]:
    """Import a results file (CSV or XLSX), in batches; returns the summary (also stored in `imports`).

    Every row is checked (see `services.achievement.rows`, plus: the school is in the directory copy and in
    the caller's scope, and the key does not repeat an earlier line). A bad row is reported with its line and
    column and nothing of it is stored; the good rows are stored, each result with its event and audit entry
    in one transaction. A row equal to the stored result writes nothing ("unchanged").
    """
    who = ctx.principal
    authorize(who, POLICY["result.import"])
    summary = Summary(f"imp-{uuid.uuid4().hex[:16]}", file_name, fmt, utcnow())
    record = {
        "_id": summary.import_id,
        "file_name": file_name,
        "format": fmt,
        "actor": who.sub,
        "role": who.role,
        "scope": {"level": who.scope_level, "code": who.scope_code},
        "started_at": summary.started_at,
        **summary.counts(),
        "errors": [],
    }
    repo.start_import(
        record, PRODUCER.audit(ctx, "import.start", summary.import_id, None, {"file_name": file_name})
    )
    importer = _Importer(repo, ctx, summary)
    try:
        cells = csv_cells(stream) if fmt == CSV else xlsx_cells(stream)
        batch: list[Row] = []
        for item in _counted(read_rows(cells), summary, progress):
            if isinstance(item, list):
                summary.fail(item)
                continue
            batch.append(item)
            if len(batch) >= batch_size:
                importer.store(batch)
                batch = []
        importer.store(batch)
    except FileError as err:
        summary.fail(err.errors)
        summary.finish()
    except BaseException:
        summary.finish(ABORTED)
        raise
    else:
        summary.finish()
    finally:
        stored_errors = [e.as_dict() for e in summary.errors[:MAX_STORED_ERRORS]]
        repo.finish_import(summary.import_id, {**summary.counts(), "errors": stored_errors})
    if progress is not None:
        progress(summary.rows)
    return summary.as_dict()


def _counted(
    items: Iterator[Row | list[RowError]], summary: Summary, progress: Progress | None
) -> Iterator[Row | list[RowError]]:
    for item in items:
        summary.rows += 1
        if progress is not None and summary.rows % 250 == 0:
            progress(summary.rows)  # the bar moves in steps: a call per row costs more than the row
        yield item


class _Importer:
    """Checks a batch against the store (one query for its schools, one for its stored results), then
    stores each new or corrected result through the repository's versioned save."""

    def __init__(self, repo: AbstractRepository, ctx: Context, summary: Summary) -> None:
        self.repo, self.ctx, self.summary = repo, ctx, summary
        self.seen: dict[str, int] = {}  # result id -> line, to refuse a key repeated in the file

    def store(self, rows: list[Row]) -> None:
        if not rows:
            return
        schools = self.repo.schools(sorted({r.values.school_code for r in rows}))
        stored = self.repo.results(sorted({r.values.id for r in rows}))
        for row in rows:
            school = self._check(row, schools)
            if school is not None:
                self._write(row, school, stored.get(row.values.id))

    def _check(self, row: Row, schools: dict[str, School]) -> School | None:
        values = row.values
        school = schools.get(values.school_code)
        error = None
        if school is None:
            error = RowError(
                row.line, "school_code", f"unknown school {values.school_code!r} (not in the directory)"
            )
        elif not self.ctx.principal.covers(school.org):
            error = RowError(row.line, "school_code", f"school {values.school_code} is outside your scope")
        elif values.id in self.seen:
            message = (
                f"repeats line {self.seen[values.id]} (same test, academic_year, school, subject, grade)"
            )
            error = RowError(row.line, "", message)
        if error is not None:
            self.summary.fail([error])
            return None
        self.seen[values.id] = row.line
        return school

    def _write(self, row: Row, school: School, stored: Result | None) -> None:
        for attempt in range(2):
            try:
                outcome = record_result(
                    row.values, school, stored, self.summary.import_id, self.repo, self.ctx
                )
            except Conflict:
                if attempt:
                    self.summary.fail(
                        [RowError(row.line, "", "changed by another import meanwhile; import again")]
                    )
                    return
                stored = self.repo.results([row.values.id]).get(row.values.id)
                continue
            setattr(self.summary, outcome.value, getattr(self.summary, outcome.value) + 1)
            return


def record_result(
    values: ResultValues,
    school: School,
    stored: Result | None,
    import_id: str,
    repo: AbstractRepository,
    ctx: Context,
) -> Outcome:
    """Store one checked row: new, corrected (the event names the values it replaces) or unchanged."""
    outcome = classify(stored, values)
    actor = ctx.principal.sub
    if outcome is Outcome.UNCHANGED:
        return outcome
    if stored is None:
        result, events = Result.record(values, school, import_id, actor)
        before = None
        action = "result.record"
    else:
        result, before = stored, encode(stored)
        events = result.correct(values, school, import_id, actor)
        action = "result.correct"
    PRODUCER.commit(repo, ctx, result, events, action, before)
    return outcome


# --- queries --------------------------------------------------------------------------------------------


def get_result(result_id: str, repo: AbstractRepository, principal: Principal) -> Result:
    roles = POLICY["result.read"]
    authorize(principal, roles)
    result = repo.get(Result, result_id)
    try:
        if result is None:
            raise Forbidden("no such object")
        authorize(principal, roles, result.org)
    except Forbidden as err:
        # outside the caller's scope looks exactly like absent
        raise NotFound(f"no result {result_id!r}") from err
    return result


def list_results(
    filters: dict[str, Any], repo: AbstractRepository, principal: Principal
) -> tuple[list[Result], int]:
    """A page of results matching `filters`, never beyond the caller's scope."""
    authorize(principal, POLICY["result.read"])
    query = org_query(filters, principal.scope_filter())
    query.update({name: filters[name] for name in LIST_FILTERS if name in filters})
    return repo.list(Result, query, filters.get("page", 1), filters.get("page_size", 50))


def _import_scope(principal: Principal) -> dict[str, Any]:
    """An import belongs to the scope it was made in: a national caller sees all, others their own unit's."""
    if principal.scope_level == "national":
        return {}
    return {"scope.level": principal.scope_level, "scope.code": principal.scope_code}


def get_import(import_id: str, repo: AbstractRepository, principal: Principal) -> dict[str, Any]:
    authorize(principal, POLICY["import.read"])
    doc = repo.get_import(import_id)
    scope = _import_scope(principal)
    if doc is None or any(doc["scope"].get(k.split(".")[1]) != v for k, v in scope.items()):
        raise NotFound(f"no import {import_id!r}")
    return doc


def list_imports(
    args: dict[str, Any], repo: AbstractRepository, principal: Principal
) -> tuple[list[dict[str, Any]], int]:
    authorize(principal, POLICY["import.read"])
    return repo.list_imports(_import_scope(principal), args.get("page", 1), args.get("page_size", 50))
