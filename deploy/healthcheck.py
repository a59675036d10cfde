"""`python -m deploy.healthcheck`: the container's HEALTHCHECK, for every role of deploy/entrypoint.py.

- `ANP_ROLE=api`: GET http://127.0.0.1:$PORT/health answers 200 (alive; /ready would also fail on a peer);
- a worker: its loop touched ANP_HEARTBEAT_FILE less than ANP_HEARTBEAT_MAX_AGE_S (60) seconds ago.

Exit 0 healthy, 1 not, with one line saying why.
"""

from __future__ import annotations

import http.client
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping

from deploy.entrypoint import RoleError, api_port
from shared.heartbeat import age_s

MAX_AGE_S = 60.0


def check_http(url: str, timeout_s: float = 3.0) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return resp.status == 200, f"{url}: {resp.status}"
    except urllib.error.HTTPError as err:
        return False, f"{url}: {err.code}"
    except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
        return False, f"{url}: {err}"


def check_heartbeat(
    path: str, max_age_s: float, age: Callable[[str], float | None] = age_s
) -> tuple[bool, str]:
    seconds = age(path)
    if seconds is None:
        return False, f"no heartbeat yet ({path})"
    return seconds <= max_age_s, f"heartbeat {seconds:.0f} s old (limit {max_age_s:g} s)"


def check(env: Mapping[str, str], http: Callable[[str], tuple[bool, str]] = check_http) -> tuple[bool, str]:
    if env.get("ANP_ROLE", "api") == "api":
        try:
            return http(f"http://127.0.0.1:{api_port(env)}/health")
        except (RoleError, ValueError) as err:
            return False, str(err)
    path = env.get("ANP_HEARTBEAT_FILE", "")
    if not path:
        return False, "a worker needs ANP_HEARTBEAT_FILE for its healthcheck"
    return check_heartbeat(path, float(env.get("ANP_HEARTBEAT_MAX_AGE_S") or MAX_AGE_S))


def main() -> int:
    healthy, why = check(os.environ)
    print(why)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
