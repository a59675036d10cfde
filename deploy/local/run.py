"""Run the whole platform locally in the foreground: `python -m deploy.local.run` (what `make run` calls).

Starts the broker and the document store (data kept in var/local/ between runs), creates the topics, starts
every process in PROCESSES below, waits for the HTTP services' /ready, seeds the demo directory, prints the
URLs and demo tokens, then watches the children. Ctrl-C or SIGTERM stops everything (exit 0); a child that
dies on its own stops everything too (exit 1, with its last log lines). Logs: var/local/logs/<name>.log.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kafka.errors import KafkaError
from rich.console import Console
from rich.table import Table

from deploy.local.servers import (
    KAFKA_KINDS,
    ServerProcess,
    check_local,
    ensure_topics,
    mongo_port,
    port_open,
    spawn,
    split_host_port,
    start_kafka,
    start_mongo,
    stop_signals_as_keyboard_interrupt,
)
from shared.settings import DEAD_LETTER_TOPIC, TOPICS, Settings

# ------------------------------------------------------------------------------------------------------
# The processes of the platform, in start order; shutdown runs in reverse. One row per process:
#   (name, kind, target)
#   kind "http":   gunicorn serving the app factory `target`; `name` is the key of its port in Settings.ports,
#                  readiness is GET /ready answering 200
#   kind "module": a long-running `python -m target`
# Workers come first so that a shutdown stops the APIs (no new writes) before the relays and projector.
PROCESSES: list[tuple[str, str, str]] = [
    ("supervision-relay", "module", "services.supervision.relay"),
    ("training-relay", "module", "services.training.relay"),
    ("committee-relay", "module", "services.committee.relay"),
    ("achievement-relay", "module", "services.achievement.relay"),
    ("directory-relay", "module", "services.directory.relay"),
    ("monitoring-projector", "module", "services.monitoring.projector"),
    ("monitoring-relay", "module", "services.monitoring.relay"),  # alerts: judged, then published
    ("supervision-directory-sync", "module", "services.supervision.directory_sync"),
    ("training-directory-sync", "module", "services.training.directory_sync"),
    ("committee-directory-sync", "module", "services.committee.directory_sync"),
    ("achievement-directory-sync", "module", "services.achievement.directory_sync"),
    ("monitoring", "http", "services.monitoring.app:create_app()"),
    ("supervision", "http", "services.supervision.app:create_app()"),
    ("training", "http", "services.training.app:create_app()"),
    ("committee", "http", "services.committee.app:create_app()"),
    ("achievement", "http", "services.achievement.app:create_app()"),
]
GUNICORN_WORKERS = 2
GUNICORN_GRACEFUL_TIMEOUT = 10
# one-shot setup commands run once everything is ready ({python} is this interpreter)
SEED_STEPS: list[tuple[str, tuple[str, ...]]] = [
    ("the demo directory", ("{python}", "-m", "services.directory.cli", "import-demo")),
    ("the demo committees", ("{python}", "-m", "services.committee.cli", "seed-demo")),
    ("the demo achievement results", ("{python}", "-m", "services.achievement.cli", "seed-demo")),
    # supervision, training and meetings over four semesters, through the services' HTTP APIs
    ("the demo activity", ("{python}", "-m", "deploy.local.demo_activity")),
]
TOKENS_ARGV = ("{python}", "-m", "shared.tokens", "demo")
# ------------------------------------------------------------------------------------------------------


REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Proc:
    """A child process to run: its argv and, for an HTTP service, the port whose /ready gates startup."""

    name: str
    argv: tuple[str, ...]
    port: int | None = None
    stop_timeout: float = 10

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"


class StartupError(Exception):
    """Startup failed; `proc` (when set) is the child whose log explains why."""

    def __init__(self, message: str, proc: ServerProcess | None = None) -> None:
        super().__init__(message)
        self.proc = proc


def build_processes(settings: Settings, rows: Sequence[tuple[str, str, str]] = PROCESSES) -> list[Proc]:
    """Turn the PROCESSES table into argv lists for this interpreter and these settings."""
    procs = []
    for name, kind, target in rows:
        if kind == "http":
            port = settings.ports[name]
            # the master waits up to graceful-timeout for its workers: give it that plus a margin
            stop_timeout = GUNICORN_GRACEFUL_TIMEOUT + 5
            procs.append(Proc(name, gunicorn_argv(target, port), port, stop_timeout=stop_timeout))
        elif kind == "module":
            procs.append(Proc(name, (sys.executable, "-m", target)))
        else:
            raise ValueError(f"PROCESSES row {name!r}: unknown kind {kind!r}")
    return procs


def gunicorn_argv(target: str, port: int) -> tuple[str, ...]:
    """How every API is served: this venv's gunicorn (whatever PATH says) with the platform's worker settings."""
    return (
        sys.executable, "-m", "gunicorn",
        "--workers", str(GUNICORN_WORKERS),
        "--bind", f"{HOST}:{port}",
        "--graceful-timeout", str(GUNICORN_GRACEFUL_TIMEOUT),
        target,
    )  # fmt: skip


def http_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    # refused before the bind, 503 while a dependency is down, a read timeout while workers still boot
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        return False


class Runner:
    """Owns every process of one run, so that every exit path stops all of them."""

    def __init__(self, settings: Settings, data_dir: Path, console: Console, broker: str = "noida") -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.logs = data_dir / "logs"
        self.console = console
        self.broker = broker
        self.servers: list[ServerProcess] = []
        self.children: list[ServerProcess] = []
        self.env = {**os.environ, **settings.to_env(), "PYTHONUNBUFFERED": "1"}  # logs land promptly
        self._forced = False
        self._stop_timeouts: dict[str, float] = {}

    # -------------------------------------------------------------------------------------- lifecycle

    def run(self, procs: Sequence[Proc], *, seed: bool = True, ready_timeout: float = 90) -> int:
        stop_signals_as_keyboard_interrupt()
        try:
            self.start_infra()
            if procs:
                self.start_children(procs)
                self.wait_ready(procs, ready_timeout)
                if seed:
                    self.seed()
                self.print_urls(procs)
                if seed:
                    self.print_tokens()
            self.console.print(f"[bold]Running.[/] Ctrl-C stops everything. Logs: {self.logs}/")
            return self.supervise()
        except KeyboardInterrupt:
            self.console.print("\n[yellow]stopping…[/]")
            return 0
        except StartupError as exc:
            self.console.print(f"[bold red]startup failed:[/] {exc}")
            if exc.proc is not None:
                self.print_tail(exc.proc)
            return 1
        finally:
            self.shutdown()

    def start_infra(self) -> None:
        s = self.settings
        kafka_host, kafka_port = split_host_port(s.kafka_bootstrap)
        check_local(kafka_host, "ANP_KAFKA_BOOTSTRAP")
        check_local(urlsplit(s.mongo_uri).hostname or "", "ANP_MONGO_URI")
        for what, start in (
            (f"kafka ({self.broker})", lambda: start_kafka(
                self.data_dir / "kafka", kafka_port, self.broker, log_path=self.logs / "kafka.log")),
            ("mongo (SecantusDB)", lambda: start_mongo(
                self.data_dir / "mongo", mongo_port(s.mongo_uri), log_path=self.logs / "mongo.log")),
        ):  # fmt: skip
            began = time.monotonic()
            try:
                server = start()
            except RuntimeError as exc:
                raise StartupError(str(exc)) from None
            self.servers.append(server)
            self._ok(f"{what} on {server.address}", began)
        began = time.monotonic()
        topics = [*TOPICS.values(), DEAD_LETTER_TOPIC]
        try:
            created = ensure_topics(s.kafka_bootstrap, topics, s.topic_partitions)
        except (KafkaError, TimeoutError) as exc:
            raise StartupError(f"creating topics failed: {exc}") from None
        self._ok(
            f"topics: {len(topics)} ({len(created)} created, {s.topic_partitions} partitions each)", began
        )

    def start_children(self, procs: Sequence[Proc]) -> None:
        for proc in procs:
            # a stale server on the port would answer /ready and hide that ours failed to bind
            if proc.port is not None and port_open(HOST, proc.port):
                raise StartupError(f"{proc.name}: port {proc.port} is already in use")
            child = spawn(
                proc.name,
                proc.argv,
                log_path=self.logs / f"{proc.name}.log",
                address=proc.base_url if proc.port else "",
                env=self.env,
                cwd=REPO_ROOT,
                append=False,  # one run, one log: its tail is what matters when something dies
            )
            self.children.append(child)
            self._stop_timeouts[proc.name] = proc.stop_timeout
        self.console.print(f"[dim]started {len(procs)} processes; logs in {self.logs}/[/]")

    def wait_ready(self, procs: Sequence[Proc], timeout: float) -> None:
        began = time.monotonic()
        deadline = began + timeout
        pending = [p for p in procs if p.port is not None]
        with self.console.status("waiting for the services' /ready…"):
            while pending:
                self.check_children()
                for proc in [p for p in pending if http_ready(f"{p.base_url}/ready")]:
                    pending.remove(proc)
                    self._ok(f"{proc.name} ready at {proc.base_url}", began)
                if pending and time.monotonic() > deadline:
                    names = ", ".join(p.name for p in pending)
                    child = self._child(pending[0].name)
                    raise StartupError(f"not ready after {timeout:g}s: {names}", child)
                time.sleep(0.1)

    def seed(self) -> None:
        for what, template in SEED_STEPS:
            began = time.monotonic()
            self.console.print(f"[dim]seeding {what}…[/]")
            try:
                # output goes straight to the terminal: each step prints its own summary
                subprocess.run(self._argv(template), env=self.env, cwd=REPO_ROOT, check=True, timeout=300)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
                raise StartupError(f"seeding {what} failed: {exc}") from None
            self._ok(f"{what} seeded", began)

    def print_urls(self, procs: Sequence[Proc]) -> None:
        table = Table(title="Academic Network Platform — local", title_justify="left")
        table.add_column("service", style="bold")
        table.add_column("URL")
        table.add_column("API docs")
        for proc in procs:
            if proc.port is not None:
                table.add_row(proc.name, proc.base_url + "/", f"{proc.base_url}/docs")
        if "monitoring" in self.settings.ports:
            live_view = f"http://{HOST}:{self.settings.ports['monitoring']}/api/v1/views/national/TH"
            table.add_row("live views", live_view, "(bearer token)", style="green")
            dashboard = f"http://{HOST}:{self.settings.ports['monitoring']}/dashboard/"
            table.add_row("dashboard", dashboard, "sign in as a demo user", style="bold green")
        table.add_row("kafka", self.settings.kafka_bootstrap, "", style="dim")
        table.add_row("mongo", self.settings.mongo_uri, "", style="dim")
        self.console.print(table)

    def print_tokens(self) -> None:
        argv = self._argv(TOKENS_ARGV)
        try:
            out = subprocess.run(
                argv, env=self.env, cwd=REPO_ROOT, check=True, timeout=60, capture_output=True, text=True
            )
        except subprocess.CalledProcessError as exc:
            raise StartupError(f"{' '.join(argv[1:])} failed:\n{exc.stderr}") from None
        except (subprocess.TimeoutExpired, OSError) as exc:
            raise StartupError(f"{' '.join(argv[1:])} failed: {exc}") from None
        rows = _json_lines(out.stdout)
        if not rows:
            self.console.print("[yellow]no demo tokens printed[/]")
            return
        columns = [*dict.fromkeys(k for row in rows for k in row if k != "token"), "token"]
        table = Table(title="Demo tokens (Authorization: Bearer <token>)", title_justify="left")
        for col in columns:
            table.add_column(col, style="dim" if col == "token" else None, no_wrap=col == "token")
        for row in rows:
            table.add_row(*(_cell(row.get(col), shorten=col == "token") for col in columns))
        self.console.print(table)
        # a JWT is ~400 characters: the table shows its ends, the file has each one whole on a line
        path = self.data_dir / "demo-tokens.jsonl"
        path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        self.console.print(f"full tokens: {path} (or run `python -m shared.tokens demo`)", soft_wrap=True)

    def supervise(self) -> int:
        """Block until Ctrl-C/SIGTERM (KeyboardInterrupt) or until a process dies on its own (→ 1)."""
        while True:
            try:
                self.check_children()
            except StartupError as exc:
                self.console.print(f"[bold red]{exc}[/]")
                if exc.proc is not None:
                    self.print_tail(exc.proc)
                return 1
            time.sleep(0.2)

    def check_children(self) -> None:
        for proc in [*self.servers, *self.children]:
            if not proc.alive():
                raise StartupError(f"{proc.name} exited unexpectedly with code {proc.returncode}", proc)

    def shutdown(self) -> None:
        """Children in reverse start order (SIGTERM, wait, SIGKILL), then the servers.

        A second Ctrl-C SIGKILLs the remaining children; the servers still get their graceful stop.
        """
        self._install_force_handlers()
        for child in reversed(self.children):
            if child.alive():
                began = time.monotonic()
                code = child.stop(self._stop_timeouts.get(child.name, 10), force=lambda: self._forced)
                self.console.print(
                    f"[dim]stopped {child.name} (exit {code}, {time.monotonic() - began:.1f} s)[/]"
                )
        for server in self.servers:
            server.terminate()  # together: SecantusDB needs ~2 s to close
        for server in reversed(self.servers):
            server.stop(10)  # no forcing here: a SIGKILLed noida loses its last second of writes
        if self.children or self.servers:
            self.console.print("[dim]all processes stopped[/]")

    # ---------------------------------------------------------------------------------------- helpers

    def _install_force_handlers(self) -> None:
        def force(signum: int, frame: object) -> None:
            # never raise here: an exception would abandon the cleanup and leave orphans
            if not self._forced:
                self._forced = True
                # os.write, not print: a buffered write re-entered from a signal handler can raise
                os.write(2, b"\nforcing: SIGKILL the remaining children\n")

        # only an impatient human (a 2nd Ctrl-C) forces; a repeated SIGTERM from a supervisor does not
        signal.signal(signal.SIGINT, force)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)

    def _child(self, name: str) -> ServerProcess | None:
        return next((c for c in self.children if c.name == name), None)

    def _argv(self, template: Sequence[str]) -> list[str]:
        return [part.format(python=sys.executable) for part in template]

    def _ok(self, message: str, began: float) -> None:
        self.console.print(f"[green]✓[/] {message} [dim]({time.monotonic() - began:.1f} s)[/]")

    def print_tail(self, proc: ServerProcess, lines: int = 30) -> None:
        self.console.print(f"[bold]last lines of {proc.log_path}:[/]")
        self.console.print(proc.log_tail(lines), markup=False, highlight=False, soft_wrap=True)


def _json_lines(text: str) -> list[dict[str, Any]]:
    rows = []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # tolerate banners or warnings mixed into the output
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _cell(value: object, shorten: bool = False) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return f"{text[:12]}…{text[-8:]}" if shorten and len(text) > 24 else text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.run", description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / "var" / "local")
    parser.add_argument("--broker", choices=KAFKA_KINDS, default="noida", help="tansu keeps no data")
    parser.add_argument("--only-infra", action="store_true", help="start only the broker, store and topics")
    parser.add_argument("--no-seed", action="store_true", help="skip the demo import and tokens")
    parser.add_argument("--ready-timeout", type=float, default=90, help="seconds to wait for /ready")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    if not settings.demo_tokens_file:  # a local demo: the dashboard's sign-in page offers the demo users
        settings = settings.with_overrides(
            demo_tokens_file=str(args.data_dir.resolve() / "demo-tokens.jsonl")
        )
    procs = [] if args.only_infra else build_processes(settings)
    runner = Runner(settings, args.data_dir.resolve(), Console(), broker=args.broker)
    return runner.run(procs, seed=not args.no_seed, ready_timeout=args.ready_timeout)


if __name__ == "__main__":
    sys.exit(main())
