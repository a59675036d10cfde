"""Master-data commands.

python -m services.directory.cli import DIR          import the four CSV files found in DIR
python -m services.directory.cli import-demo         import the hand-made demo set (idempotent)
python -m services.directory.cli generate OUT_DIR [--schools N] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from services.directory.csv_import import ImportReport, import_directory
from services.directory.generator import NATIONAL_SCHOOLS, generate, write_dataset
from shared.clients import mongo_client
from shared.settings import Settings
from shared.store import Store

DEMO_DIR = Path(__file__).parent / "demo"
MAX_ERRORS_SHOWN = 200

console = Console()


def run_import(directory: Path, *, progress: bool = True) -> ImportReport:
    settings = Settings.from_env()
    client = mongo_client(settings)
    try:
        return import_directory(Store(client, settings.db_name("directory")), directory, progress=progress)
    finally:
        client.close()


def show(report: ImportReport, seconds: float) -> None:
    columns = ["rows", "created", "updated", "unchanged", "backdated", "restamped"]
    # the rarer counts only when they happened, so the table fits an 80-column terminal
    columns = [
        c for c in columns if c not in ("backdated", "restamped") or any(getattr(f, c) for f in report.files)
    ]
    table = Table(title=f"master-data import ({seconds:.1f} s)")
    table.add_column("file", no_wrap=True)
    for column in [*columns, "errors", "s"]:
        table.add_column(column, justify="right")
    for f in report.files:
        table.add_row(f.file, *(str(getattr(f, c)) for c in columns), str(len(f.errors)), f"{f.seconds:.1f}")
    console.print(table)
    errors = report.errors
    for error in errors[:MAX_ERRORS_SHOWN]:
        console.print(
            f"[red]{error.file}[/] line {error.line}, [bold]{error.column or 'row'}[/]: {error.message}"
        )
    if len(errors) > MAX_ERRORS_SHOWN:
        console.print(f"… and {len(errors) - MAX_ERRORS_SHOWN} more row errors")


def cmd_import(directory: Path) -> int:
    if not directory.is_dir():
        console.print(f"[red]{directory} is not a directory[/]")
        return 2
    started = time.perf_counter()
    report = run_import(directory)
    show(report, time.perf_counter() - started)
    return 0 if report.ok else 1


def cmd_generate(out_dir: Path, schools: int, seed: int) -> int:
    started = time.perf_counter()
    written = write_dataset(generate(schools=schools, seed=seed), out_dir)
    summary = ", ".join(f"{name}: {count}" for name, count in written.items())
    console.print(f"wrote {out_dir} in {time.perf_counter() - started:.1f} s ({summary})")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m services.directory.cli", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="import esa_areas/clusters/schools/teachers.csv from DIR")
    imp.add_argument("directory", type=Path)
    commands.add_parser("import-demo", help="import the demo set (safe to repeat)")
    gen = commands.add_parser("generate", help="write a realistic national data set")
    gen.add_argument("out_dir", type=Path)
    gen.add_argument("--schools", type=int, default=NATIONAL_SCHOOLS)
    gen.add_argument("--seed", type=int, default=2024)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "import":
        return cmd_import(args.directory)
    if args.command == "import-demo":
        return cmd_import(DEMO_DIR)
    return cmd_generate(args.out_dir, args.schools, args.seed)


if __name__ == "__main__":
    sys.exit(main())
