"""Gunicorn settings for the API containers, from the environment (deploy/entrypoint.py passes this file).

PORT, GUNICORN_WORKERS (2), GUNICORN_THREADS (1: sync workers; more: gthread), GUNICORN_TIMEOUT (30),
GUNICORN_GRACEFUL_TIMEOUT (20), GUNICORN_MAX_REQUESTS (0: never recycle) and GUNICORN_MAX_REQUESTS_JITTER (0).
Access and error logs go to stdout/stderr.
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = f"0.0.0.0:{_int('PORT', 8000)}"
workers = _int("GUNICORN_WORKERS", 2)
threads = _int("GUNICORN_THREADS", 1)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 0)
accesslog = "-"
errorlog = "-"
# the workers' liveness files on memory, not on the container's overlay filesystem
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# no gunicornc control socket: nothing uses it, and under a read-only root its directory cannot be created
control_socket_disable = True
