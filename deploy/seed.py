"""`python -m deploy.seed`: the demo data of `make run` for a running stack, then the demo tokens.

Compose: `docker compose --profile demo run --rm seed`. It waits for every service's /ready (hosts from
ANP_DEMO_API_HOST, `{service}` under compose), runs deploy/local/run.py's SEED_STEPS in order (each is idempotent),
prints `python -m shared.tokens demo` (one JSON object per line) and, when ANP_DEMO_TOKENS_FILE is set, writes
them there too, for the dashboard's demo sign-in.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from deploy.local.demo_activity import base_url
from deploy.local.run import SEED_STEPS, TOKENS_ARGV, _json_lines, http_ready
from shared.settings import DEFAULT_PORTS, Settings

READY_TIMEOUT_S = 180.0


def wait_ready(settings: Settings, timeout_s: float = READY_TIMEOUT_S) -> None:
    pending = [base_url(settings, name) + "/ready" for name in DEFAULT_PORTS]
    deadline = time.monotonic() + timeout_s
    while pending:
        pending = [url for url in pending if not http_ready(url)]
        if pending and time.monotonic() > deadline:
            raise SystemExit(f"not ready after {timeout_s:g} s: {', '.join(pending)}")
        if pending:
            time.sleep(1)


def argv(template: tuple[str, ...]) -> list[str]:
    return [part.format(python=sys.executable) for part in template]


def main() -> int:
    settings = Settings.from_env()
    print("waiting for the services' /ready …", flush=True)
    wait_ready(settings)
    for what, template in SEED_STEPS:
        print(f"seeding {what} …", flush=True)
        subprocess.run(argv(template), check=True, timeout=600)
    out = subprocess.run(argv(TOKENS_ARGV), check=True, capture_output=True, text=True, timeout=60).stdout
    tokens = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in _json_lines(out))
    if settings.demo_tokens_file:
        Path(settings.demo_tokens_file).write_text(tokens, encoding="utf-8")
        print(f"demo tokens (also in {settings.demo_tokens_file}, for the dashboard's sign-in):", flush=True)
    sys.stdout.write(tokens)
    return 0


if __name__ == "__main__":
    sys.exit(main())
