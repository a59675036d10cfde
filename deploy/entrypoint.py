"""`python -m deploy.entrypoint`: the container's entry (deploy/Dockerfile); ANP_ROLE says what it runs.

- `ANP_ROLE=api`: gunicorn serving `services.${ANP_SERVICE}.app:create_app()`, configured by
  deploy/gunicorn.conf.py from GUNICORN_* and PORT (default: the service's ANP_<SERVICE>_PORT);
- `ANP_ROLE=<module>` (`services.supervision.relay`, `services.monitoring.projector`, `deploy.seed`, …):
  `python -m <module>`; its old heartbeat file is removed first, so a restart is not taken for alive.

Arguments, when given, run instead (`docker compose run --rm supervision python -m shared.tokens demo`).
The process replaces this one (exec), so signals go straight to gunicorn or the worker.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from shared.settings import DEFAULT_PORTS

GUNICORN_CONF = Path(__file__).with_name("gunicorn.conf.py")
MODULE = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+")


class RoleError(ValueError):
    pass


def api_service(env: Mapping[str, str]) -> str:
    service = env.get("ANP_SERVICE", "")
    if service not in DEFAULT_PORTS:
        raise RoleError(f"ANP_SERVICE must be one of {', '.join(DEFAULT_PORTS)}, not {service!r}")
    return service


def api_port(env: Mapping[str, str]) -> int:
    """PORT, else the service's own ANP_<SERVICE>_PORT, else its default (8100-8104)."""
    service = api_service(env)
    return int(env.get("PORT") or env.get(f"ANP_{service.upper()}_PORT") or DEFAULT_PORTS[service])


def command(env: Mapping[str, str]) -> list[str]:
    """The argv this container runs for its environment."""
    role = env.get("ANP_ROLE", "api")
    if role == "api":
        target = f"services.{api_service(env)}.app:create_app()"
        return [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF), target]
    if MODULE.fullmatch(role):
        return [sys.executable, "-m", role]
    raise RoleError(f"ANP_ROLE must be 'api' or a python module (services.supervision.relay), not {role!r}")


def main(argv: list[str]) -> None:
    env = dict(os.environ)
    try:
        args = argv or command(env)
        if env.get("ANP_ROLE", "api") == "api" and not argv:
            env["PORT"] = str(api_port(env))  # gunicorn.conf.py binds it, the healthcheck asks it
    except RoleError as err:
        sys.exit(f"deploy.entrypoint: {err}")
    if env.get("ANP_HEARTBEAT_FILE"):
        Path(env["ANP_HEARTBEAT_FILE"]).unlink(missing_ok=True)
    os.execvpe(args[0], args, env)


if __name__ == "__main__":
    main(sys.argv[1:])
