"""Achievement commands.

python -m services.achievement.cli import FILE [--as-user SUB]    import a results file (CSV or XLSX)
python -m services.achievement.cli generate OUT.csv [--year 2568] [--schools-from schools.csv] [--seed S]
python -m services.achievement.cli seed-demo [--years 2567 2568] [--wait 60]

`import` calls the same service layer as `POST /api/v1/imports`, as a national principal (any school; the
audit log names `--as-user`, default `system:achievement-cli`), without the API's request size limit: this is
the way for national files. It shows a progress bar and a summary, and exits 1 when a row had an error.
`seed-demo` generates and imports the demo results of two academic years for the demo directory, once it is in
this service's directory copy (kept by `python -m services.achievement.directory_sync`); it is safe to repeat.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.achievement import generator, handlers
from services.achievement.repository import AbstractRepository, MongoRepository
from services.achievement.rows import CSV, count_rows, detect_format
from shared.auth import Principal
from shared.clients import mongo_client
from shared.errors import AppError
from shared.settings import Settings
from shared.store import Store

DEFAULT_USER = "system:achievement-cli"
DEMO_YEARS = (2567, 2568)
MAX_ERRORS_SHOWN = 200

RepositoryFactory = Callable[[Settings], AbstractRepository]


def cli_context(sub: str) -> handlers.Context:
    """A national principal acting as `sub`; its audit entries name this process."""
    who = Principal(sub=sub, name=sub, role="national_officer", scope_level="national", scope_code=None)

    def audit(action: str, target: str, before: Any = None, after: Any = None) -> dict[str, Any]:
        return {
            "actor": sub,
            "role": who.role,
            "action": action,
            "target": target,
            "before": before,
            "after": after,
            "source": {"process": "services.achievement.cli"},
        }

    return handlers.Context(who, audit)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m services.achievement.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = top.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="import a results file (CSV in UTF-8, or XLSX)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--as-user", default=DEFAULT_USER, help=f"the actor in the audit log ({DEFAULT_USER})")
    gen = commands.add_parser("generate", help="write a demo results file for the directory's schools")
    gen.add_argument("out", type=Path)
    gen.add_argument("--year", type=int, default=2568, help="academic year, Buddhist Era")
    gen.add_argument("--schools-from", type=Path, default=generator.DEMO_SCHOOLS)
    gen.add_argument("--seed", type=int, default=2568)
    seed = commands.add_parser("seed-demo", help="generate and import demo results of two years (idempotent)")
    seed.add_argument("--years", type=int, nargs="+", default=list(DEMO_YEARS))
    seed.add_argument("--schools-from", type=Path, default=generator.DEMO_SCHOOLS)
    seed.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the directory copy")
    seed.add_argument("--as-user", default=DEFAULT_USER)
    return top


def main(
    argv: Sequence[str] | None = None,
    *,
    settings: Settings | None = None,
    repository: RepositoryFactory | None = None,
    console: Console | None = None,
) -> int:
    args = parser().parse_args(argv)
    console = console or Console()
    if args.command == "generate":
        return cmd_generate(args.out, args.year, args.schools_from, args.seed, console)
    settings = settings or Settings.from_env()
    repo = (repository or mongo_repository)(settings)
    if args.command == "import":
        return cmd_import(args.file, cli_context(args.as_user), repo, console)
    return cmd_seed_demo(args.years, args.schools_from, args.wait, cli_context(args.as_user), repo, console)


def mongo_repository(settings: Settings) -> AbstractRepository:
    repo = MongoRepository(Store(mongo_client(settings), settings.db_name("achievement")))
    repo.ensure_indexes()
    return repo


def cmd_import(path: Path, ctx: handlers.Context, repo: AbstractRepository, console: Console) -> int:
    try:
        with path.open("rb") as stream:
            fmt = detect_format(stream.read(4), path.name)
            stream.seek(0)
            total = count_rows(stream, fmt)
            stream.seek(0)
            summary = _import(stream, path.name, fmt, ctx, repo, console, total)
    except OSError as error:
        console.print(f"[red]cannot read {path}: {error.strerror}[/red]")
        return 2
    except AppError as error:
        console.print(f"[red]{error.message}[/red]")
        return 1
    show(console, [summary])
    return 1 if summary["errors"] else 0


def _import(
    stream: BinaryIO,
    name: str,
    fmt: str,
    ctx: handlers.Context,
    repo: AbstractRepository,
    console: Console,
    total: int | None,
) -> dict[str, Any]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(name, total=total)
        return handlers.import_results(
            stream, name, fmt, repo, ctx, progress=lambda done: bar.update(task, completed=done)
        )


def show(console: Console, summaries: list[dict[str, Any]]) -> None:
    table = Table(title="achievement import")
    table.add_column("file", no_wrap=True)
    for column in ("rows", "new", "corrected", "unchanged", "failed rows", "status"):
        table.add_column(column, justify="right")
    for s in summaries:
        table.add_row(
            s["file_name"],
            *(str(s[c]) for c in ("rows", "new", "corrected", "unchanged", "failed_rows")),
            s["status"],
        )
    console.print(table)
    errors = [(s["file_name"], e) for s in summaries for e in s["errors"]]
    for name, e in errors[:MAX_ERRORS_SHOWN]:
        console.print(f"[red]{name}[/] line {e['line']}, [bold]{e['column'] or 'row'}[/]: {e['message']}")
    if len(errors) > MAX_ERRORS_SHOWN:
        console.print(f"… and {len(errors) - MAX_ERRORS_SHOWN} more row errors")
    for s in summaries:
        if s["note"]:
            console.print(f"{s['file_name']}: {s['note']}")


def cmd_generate(out: Path, year: int, schools_from: Path, seed: int, console: Console) -> int:
    try:
        schools = generator.read_schools(schools_from)
    except (OSError, KeyError, ValueError) as error:
        console.print(f"[red]cannot read the schools of {schools_from}: {error}[/red]")
        return 2
    rows = generator.generate(schools, year=year, seed=seed)
    out.write_bytes(generator.to_csv(rows))
    console.print(f"wrote {out}: {len(rows)} results of {len(schools)} schools for {year}")
    return 0


def wait_for_schools(
    repo: AbstractRepository, codes: list[str], wait_s: float, clock: Callable[[], float] = time.monotonic
) -> list[str]:
    """Poll the directory copy until it has every school (or the deadline passes); the missing ones."""
    deadline = clock() + wait_s
    while True:
        missing = [code for code in codes if code not in repo.schools(codes)]
        if not missing or clock() >= deadline:
            return missing
        time.sleep(0.5)


def cmd_seed_demo(
    years: list[int],
    schools_from: Path,
    wait_s: float,
    ctx: handlers.Context,
    repo: AbstractRepository,
    console: Console,
) -> int:
    schools = generator.read_schools(schools_from)
    missing = wait_for_schools(repo, [s.code for s in schools], wait_s)
    if missing:
        console.print(
            f"[red]after {wait_s:g} s the directory copy still lacks {len(missing)} of {len(schools)} demo "
            f"schools ({', '.join(missing[:5])}…). Import the directory demo (python -m "
            "services.directory.cli import-demo) and run python -m services.achievement.directory_sync.[/red]"
        )
        return 1
    summaries = []
    for year in years:
        data = generator.to_csv(generator.generate(schools, year=year))
        name = f"demo-results-{year}.csv"
        summaries.append(_import(io.BytesIO(data), name, CSV, ctx, repo, console, data.count(b"\n") - 1))
    show(console, summaries)
    return 1 if any(s["errors"] for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())
