"""`python -m services.training.cli import-attendance --programme P --session S FILE`: import a participant
report from the command line, with a progress bar. It calls the same handler as the API, as the principal of
`--token` (or `ANP_TOKEN`), so the same roles, scope checks, audit and idempotency apply.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from services.training import handlers
from services.training.repository import AbstractRepository, MongoRepository
from shared.auth import decode_token
from shared.clients import mongo_client
from shared.errors import AppError
from shared.settings import Settings
from shared.store import Store

TOKEN_ENV = "ANP_TOKEN"


def cli_audit(who: str, role: str) -> handlers.AuditFactory:
    def audit(action: str, target: str, before: Any = None, after: Any = None) -> dict[str, Any]:
        return {
            "actor": who,
            "role": role,
            "action": action,
            "target": target,
            "before": before,
            "after": after,
            "source": {"process": "services.training.cli"},
        }

    return audit


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m services.training.cli", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    imp = commands.add_parser(
        "import-attendance", help="import an online platform's participant report (CSV)"
    )
    imp.add_argument("--programme", required=True, help="the programme id")
    imp.add_argument("--session", required=True, help="the session id")
    imp.add_argument("--token", help=f"a bearer token (default: ${TOKEN_ENV})")
    imp.add_argument("file", type=Path, help="the report, CSV in UTF-8")
    return top


def main(
    argv: Sequence[str] | None = None,
    *,
    settings: Settings | None = None,
    repository: Callable[[Settings], AbstractRepository] | None = None,
    console: Console | None = None,
) -> int:
    args = parser().parse_args(argv)
    settings = settings or Settings.from_env()
    console = console or Console()
    err = Console(stderr=True)
    token = args.token or os.environ.get(TOKEN_ENV, "")
    if not token:
        err.print(f"[red]a token is required: --token or {TOKEN_ENV}[/red]")
        return 2
    try:
        report = args.file.read_bytes()
    except OSError as error:
        err.print(f"[red]cannot read {args.file}: {error.strerror}[/red]")
        return 2
    if len(report) > settings.max_body_bytes:
        err.print(f"[red]{args.file} is larger than {settings.max_body_bytes} bytes[/red]")
        return 2
    try:
        who = decode_token(token, settings)
        repo = (repository or _mongo_repository)(settings)
        ctx = handlers.Context(who, cli_audit(who.sub, who.role))
        with Progress(
            TextColumn("[bold]recording attendance"), BarColumn(), MofNCompleteColumn(), console=console
        ) as progress:
            task = progress.add_task("import", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = handlers.import_attendance_report(
                args.programme, args.session, report, repo, ctx, progress=advance
            )
    except AppError as error:
        err.print(f"[red]{error.message}[/red]")
        for name, problems in (error.errors or {}).items():
            err.print(f"  {name}: {problems}")
        return 1
    _summary(console, result)
    return 0


def _mongo_repository(settings: Settings) -> AbstractRepository:
    repo = MongoRepository(Store(mongo_client(settings), settings.db_name("training")))
    repo.ensure_indexes()
    return repo


def _summary(console: Console, result: dict[str, Any]) -> None:
    console.print(
        f"rows {result['rows']}, matched {result['matched_rows']} rows of {result['matched_teachers']} "
        f"teachers: {result['recorded']} recorded, {result['unchanged']} unchanged; "
        f"{len(result['unmatched'])} unmatched, {len(result['invalid'])} invalid"
    )
    if result["teachers"]:
        table = Table("teacher", "minutes", "credited", "lines", "changed", title="matched")
        for t in result["teachers"]:
            lines = ", ".join(map(str, t["lines"]))
            table.add_row(
                t["teacher_id"], str(t["minutes"]), str(t["credited_minutes"]), lines, str(t["changed"])
            )
        console.print(table)
    if result["unmatched"]:
        table = Table("line", "name", "email", "reason", title="unmatched")
        for u in result["unmatched"]:
            table.add_row(str(u["line"]), u["name"], u["email"], u["reason"])
        console.print(table)
    if result["invalid"]:
        table = Table("line", "reason", title="invalid")
        for i in result["invalid"]:
            table.add_row(str(i["line"]), i["reason"])
        console.print(table)


if __name__ == "__main__":
    sys.exit(main())
