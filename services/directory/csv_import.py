"""Import master data from the four CSV files, in dependency order, in atomic batches.

Every row is validated by its schema and by the domain rules against the stored records and the good rows
of the same import (services.directory.rows). A bad row is reported with its spreadsheet line and nothing of
it is stored; good rows are stored. A row equal to the stored record writes nothing and publishes nothing,
so re-importing a file is free; a changed row stores the new state and publishes one event.
"""

from __future__ import annotations

import csv
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.directory.domain import (
    KINDS,
    SCHOOL,
    TEACHER,
    Current,
    Kind,
    Record,
    Reference,
    Verdict,
    classify,
    org_dict,
    org_of,
    payload,
    state_digest,
)
from services.directory.repository import DirectoryRepository, Writes, current_doc, history_doc, history_id
from services.directory.rows import Row, RowChecker, RowError, read_rows
from shared.envelope import Org, new_event
from shared.store import Store

PRODUCER = "directory"
EVENT_VERSION = 1
# Records per transaction (each with its outbox event). Measured on the local server, 2000 was no faster
# than 500 (the store's cost is per document), and smaller transactions hold fewer locks for less time.
BATCH_SIZE = 500


@dataclass
class FileReport:
    file: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    backdated: int = 0  # earlier effective states added to the history only
    restamped: int = 0  # teachers re-published because their school's org path changed
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)
    correlation_id: str = ""  # shared by every event of the run

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[RowError]:
        return [e for f in self.files for e in f.errors]

    def file(self, name: str) -> FileReport:
        return next(f for f in self.files if f.file == name)


# --- deciding and planning a batch (pure but for the clock and event ids) ---


@dataclass
class Pending:
    record: Record
    data: dict[str, Any]  # the record's payload
    org: Org
    digest: bytes
    verdict: Verdict
    previous: Current | None
    previous_org: Org | None = None  # a school's org path before this row (to re-stamp its teachers)


def plan_writes(
    kind: Kind,
    items: list[Pending],
    stored_history: dict[str, bytes],
    *,
    actor: str,
    correlation_id: str,
) -> tuple[Writes, dict[str, int]]:
    """The documents and events of one batch, and what happened to its rows."""
    writes = Writes(kind)
    counts = dict.fromkeys(("created", "updated", "unchanged", "backdated"), 0)
    for item in items:
        if item.verdict is Verdict.BACKDATED:
            outcome = _plan_backdated(kind, item, stored_history, writes)
        else:
            outcome = _plan_current(kind, item, writes, actor, correlation_id)
        counts[outcome] += 1
    return writes, counts


def _plan_backdated(kind: Kind, item: Pending, stored_history: dict[str, bytes], writes: Writes) -> str:
    """An earlier state joins the history (once); the current record and its readers are untouched."""
    if stored_history.get(history_id(kind, item.record.key, item.record.effective_from)) == item.digest:
        return "unchanged"
    writes.history.append(history_doc(kind, item.data, org_dict(item.org), None))
    return "backdated"


def _plan_current(kind: Kind, item: Pending, writes: Writes, actor: str, correlation_id: str) -> str:
    version = 1 if item.previous is None else item.previous.version + 1
    writes.events.append(_event(kind, item.data, item.org, version, actor, correlation_id))
    doc = current_doc(kind, item.data, item.org, version)
    if item.previous is None:
        writes.created.append(doc)
        return "created"
    writes.replaced.append(doc)
    if item.record.effective_from > item.previous.effective_from:
        writes.superseded.append(item.record.key)  # the stored state becomes history
    return "updated"


def _event(
    kind: Kind, data: dict[str, Any], org: Org, version: int, actor: str, correlation_id: str
) -> dict[str, Any]:
    return new_event(
        event_type=kind.event_type,
        event_version=EVENT_VERSION,
        producer=PRODUCER,
        aggregate_id=data[kind.key_field],
        aggregate_version=version,
        org=org,
        payload=data,
        actor=actor,
        correlation_id=correlation_id,
    )


def plan_restamps(
    teachers: list[dict[str, Any]], schools: dict[str, Org], actor: str, correlation_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Teachers carry their school's org path: when a school moves, its teachers are re-published."""
    docs, events = [], []
    for stored in teachers:
        org = schools[stored["school_code"]]
        data = {name: stored[name] for name in TEACHER.payload_fields}
        docs.append(current_doc(TEACHER, data, org, stored["version"] + 1))
        events.append(_event(TEACHER, data, org, stored["version"] + 1, actor, correlation_id))
    return docs, events


# --- importing a file (the service layer) ---


class BatchWriter:
    """Writes batches in order on one background thread, so reading and checking the next batch overlaps
    the store's work on this one. In order: a record's states (a file may carry its history) and their
    events are stored in file order. (A second writer thread gained ~3% on the local server: not worth
    giving that up.)"""

    def __init__(self, write: Callable[[Writes], None], depth: int = 2) -> None:
        self._write = write
        self._queue: queue.Queue[Writes | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="directory-writer", daemon=True)
        self._thread.start()

    def submit(self, writes: Writes) -> None:
        self._raise_failure()
        self._queue.put(writes)

    def drain(self) -> None:
        """Wait until every submitted batch is stored (before reading what they wrote)."""
        self._queue.join()
        self._raise_failure()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._raise_failure()

    def _run(self) -> None:
        while (writes := self._queue.get()) is not None:
            try:
                if self._error is None:  # after a failure the rest is dropped; submit/drain raise it
                    self._write(writes)
            except BaseException as err:
                self._error = err
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error


class FileImport:
    """Feeds one file's rows through the rules into batches of at most `batch_size` distinct keys."""

    def __init__(
        self,
        repo: DirectoryRepository,
        kind: Kind,
        reference: Reference,
        writer: BatchWriter,
        *,
        file_name: str,
        batch_size: int,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.repo, self.kind, self.reference, self.writer = repo, kind, reference, writer
        self.report = FileReport(file_name)
        self.batch_size, self.actor, self.correlation_id = batch_size, actor, correlation_id
        self.current = repo.current_states(kind)
        self.batch: dict[str, Pending] = {}
        self.checker = RowChecker(kind, reference, file_name)

    def add(self, item: Row | RowError) -> None:
        if not (isinstance(item, RowError) and item.line == 1):
            self.report.rows += 1
        checked = self.checker.check(item)
        if isinstance(checked, list):
            self.report.errors += checked
        else:
            self._accept(checked)

    def _accept(self, record: Record) -> None:
        if record.key in self.batch:
            self.flush()  # one key per batch: a batch's writes never depend on each other
        org = org_of(record, self.reference)
        data = payload(record)
        digest = state_digest(data, org_dict(org), self.kind.payload_fields)
        previous = self.current.get(record.key)
        verdict = classify(record.effective_from, digest, previous)
        if verdict is Verdict.UNCHANGED:
            self.report.unchanged += 1
            return
        item = Pending(record, data, org, digest, verdict, previous, self.reference.schools.get(record.key))
        if verdict is not Verdict.BACKDATED:
            version = 1 if previous is None else previous.version + 1
            self.current[record.key] = Current(version, record.effective_from, digest)
            self.reference.remember(record, org)
        self.batch[record.key] = item
        if len(self.batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        items = list(self.batch.values())
        self.batch.clear()
        if not items:
            return
        stored_history = self._stored_history(items)
        writes, counts = plan_writes(
            self.kind, items, stored_history, actor=self.actor, correlation_id=self.correlation_id
        )
        if self.kind is SCHOOL:
            self._restamp_teachers(items, writes)
        writes.audit = self._audit(writes, counts)
        if not writes.empty():
            self.writer.submit(writes)
        for name, count in counts.items():
            setattr(self.report, name, getattr(self.report, name) + count)

    def _stored_history(self, items: list[Pending]) -> dict[str, bytes]:
        ids = [
            history_id(self.kind, i.record.key, i.record.effective_from)
            for i in items
            if i.verdict is Verdict.BACKDATED
        ]
        if not ids:
            return {}
        self.writer.drain()  # rare: read only after the batches before this one are stored
        return self.repo.history_digests(self.kind, ids)

    def _restamp_teachers(self, items: list[Pending], writes: Writes) -> None:
        moved = [
            i.record.key
            for i in items
            if i.verdict is Verdict.UPDATED and i.previous_org is not None and i.previous_org != i.org
        ]
        if not moved:
            return
        self.writer.drain()
        teachers = self.repo.teachers_of(moved)
        docs, events = plan_restamps(teachers, self.reference.schools, self.actor, self.correlation_id)
        writes.restamped += docs
        writes.events += events
        self.report.restamped += len(docs)

    def _audit(self, writes: Writes, counts: dict[str, int]) -> dict[str, Any]:
        changed = [d["_id"] for d in writes.created + writes.replaced] + [d["key"] for d in writes.history]
        return {
            "actor": self.actor,
            "action": "directory.import",
            "target": self.report.file,
            "correlation_id": self.correlation_id,
            "counts": {**counts, "restamped": len(writes.restamped)},
            "keys": changed,
        }


def import_file(
    repo: DirectoryRepository,
    kind: Kind,
    path: Path,
    reference: Reference,
    *,
    batch_size: int = BATCH_SIZE,
    actor: str = "import",
    correlation_id: str | None = None,
    on_rows: Callable[[int], None] = lambda _: None,
) -> FileReport:
    """Import one file; returns when every good row of it is stored."""
    started = time.perf_counter()
    writer = BatchWriter(repo.write)
    try:
        importer = FileImport(
            repo,
            kind,
            reference,
            writer,
            file_name=path.name,
            batch_size=batch_size,
            actor=actor,
            correlation_id=correlation_id or str(uuid.uuid4()),
        )
        _feed(importer, path, on_rows)
        importer.flush()
    finally:
        writer.close()
    importer.report.seconds = time.perf_counter() - started
    return importer.report


def _feed(importer: FileImport, path: Path, on_rows: Callable[[int], None]) -> None:
    count = 0
    try:
        # utf-8-sig: spreadsheet programs often write a byte-order mark
        with path.open(encoding="utf-8-sig", newline="") as stream:
            for count, item in enumerate(read_rows(importer.kind, stream, path.name), start=1):
                importer.add(item)
                if count % 250 == 0:
                    on_rows(250)  # the bar moves in steps: a call per row costs more than the row
    except (UnicodeDecodeError, csv.Error) as err:
        # Thai data often comes as TIS-620 (Windows-874): say so instead of failing with a traceback.
        hint = (
            "the file is not UTF-8 text from about here on; save it as 'CSV UTF-8'"
            if isinstance(err, UnicodeDecodeError)
            else str(err)
        )
        importer.report.errors.append(RowError(path.name, importer.report.rows + 2, "", hint))
    on_rows(count % 250)


def import_directory(
    store: Store,
    directory: Path,
    *,
    progress: bool = True,
    batch_size: int = BATCH_SIZE,
    actor: str = "import",
    console: Console | None = None,
) -> ImportReport:
    """Import whichever of the four files `directory` holds, in dependency order."""
    repo = DirectoryRepository(store)
    repo.ensure_indexes()
    reference = repo.reference()
    report = ImportReport(correlation_id=str(uuid.uuid4()))
    with _progress(progress, console) as bar:
        for kind in KINDS:
            path = Path(directory) / kind.file
            if not path.exists():
                continue
            task = bar.add_task(kind.file, total=_count_rows(path))
            report.files.append(
                import_file(
                    repo,
                    kind,
                    path,
                    reference,
                    batch_size=batch_size,
                    actor=actor,
                    correlation_id=report.correlation_id,
                    on_rows=lambda n, task=task: bar.advance(task, n),
                )
            )
    repo.ensure_teacher_index()
    return report


def _progress(enabled: bool, console: Console | None) -> Progress:
    console = console or Console(stderr=True)
    return Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not (enabled and console.is_terminal),
    )


def _count_rows(path: Path) -> int:
    """Lines minus the header: exact unless cells hold line breaks, which is good enough for a bar."""
    with path.open("rb") as stream:
        return max(sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b"")) - 1, 0)
