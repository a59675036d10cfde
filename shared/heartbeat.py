"""A worker's liveness signal: the long-running loops touch a file, a container healthcheck reads its age.

Workers (relays, directory syncs, the projector) have no HTTP port. Each turn of their loop calls `beat()`,
which touches `ANP_HEARTBEAT_FILE` at most once per `EVERY_S`; `python -m deploy.healthcheck` reports the
worker unhealthy when the file is older than its limit. Unset (the default, so local runs and tests), it does
nothing.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from shared.settings import Settings

log = logging.getLogger(__name__)

EVERY_S = 5.0


class Heartbeat:
    """Touches `path` when `beat()` is called, at most once per `every_s` of `clock`; no path, no file."""

    def __init__(
        self, path: str | os.PathLike[str] | None, every_s: float = EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.path = Path(path) if path else None
        self.every_s = every_s
        self.clock = clock
        self.last: float | None = None
        self._warned = False

    def beat(self) -> bool:
        """Touch the file when due; True when it was touched. A failed write is logged once, never raised:
        the stale file is what tells the healthcheck."""
        if self.path is None:
            return False
        now = self.clock()
        if self.last is not None and now - self.last < self.every_s:
            return False
        try:
            self.path.touch()  # creates it, or sets its mtime to now
        except OSError as err:
            if not self._warned:
                log.warning("cannot write the heartbeat file %s: %s", self.path, err)
                self._warned = True
            return False
        self.last = now
        return True


def age_s(path: str | os.PathLike[str], now: Callable[[], float] = time.time) -> float | None:
    """Seconds since the file was last touched, or None when it does not exist."""
    try:
        return max(0.0, now() - Path(path).stat().st_mtime)
    except FileNotFoundError:
        return None


@functools.cache
def process_heartbeat() -> Heartbeat:
    """This process's heartbeat, from `ANP_HEARTBEAT_FILE` (read once)."""
    return Heartbeat(Settings.from_env().heartbeat_file or None)


def beat() -> None:
    """Called on every turn of a worker loop (`OutboxRelay.run`, `ProjectorRunner.run`)."""
    process_heartbeat().beat()
