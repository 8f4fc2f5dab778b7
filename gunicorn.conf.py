"""gunicorn settings: `gunicorn -c gunicorn.conf.py` (gunicorn also reads this file by itself when
started from the project root). Command-line options win over what is set here.

Environment: GUNICORN_BIND (or PORT, on 127.0.0.1), WEB_CONCURRENCY (worker processes), GUNICORN_THREADS,
GUNICORN_MAX_REQUESTS (0 turns worker recycling off), LOG_LEVEL, FORWARDED_ALLOW_IPS (read by
gunicorn itself), PROMETHEUS_MULTIPROC_DIR (an empty directory of this host, tmpfs preferably, for
the workers' metric files; wiped of old files at start).

The app is not imported by the master (no preload_app): each worker imports it after the fork, so
`kill -HUP <master>` starts workers on new code, and no database connection is shared across a fork.
"""

from __future__ import annotations

import glob
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use, not all of the host's
    except AttributeError:
        return os.cpu_count() or 1


wsgi_app = "wsgi:app"
proc_name = "ticketing"

# Loopback unless told otherwise (a reverse proxy or load balancer in front); GUNICORN_BIND takes
# gunicorn's forms: "0.0.0.0:8000", "unix:/run/ticketing.sock", or several separated by commas.
bind = (os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT') or '8000'}").split(",")

# The work is mostly waiting on PostgreSQL, so processes x threads may exceed the cores; each
# thread holds at most one database connection, so workers x threads per host must fit the
# database's connection budget (see docs/operations.md). 2 cores: 5 workers x 4 threads.
workers = _int("WEB_CONCURRENCY", min(2 * _cores() + 1, 8))
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 8)

# A worker that does not report to the master for `timeout` seconds is killed and replaced. With
# gthread the heartbeat comes from the worker's main loop, so a long-poll request (`wait` up to
# 25 s) does not trip it.
timeout = 30
# On SIGTERM or a reload, workers finish the requests in flight for up to this long.
graceful_timeout = 20
# Idle keep-alive connections are kept this long; behind a load balancer, make it longer than the
# balancer's own idle timeout (e.g. GUNICORN_KEEPALIVE=75 behind an AWS ALB's 60 s).
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Replace each worker after about this many requests (a guard against slow leaks); the jitter keeps
# workers from restarting all at once. Every new worker starts new metric files, so not too low.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10_000)
max_requests_jitter = max_requests // 10

# The app writes one JSON access line per request itself (logger `ticketing.access`).
accesslog = None
errorlog = "-"
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()

# The control socket's default path is shared by every gunicorn of the user on the machine.
control_socket_disable = True

# The worker heartbeat file on tmpfs: on a disk-backed /tmp (some container images) it can block.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"


def on_starting(server) -> None:
    """Start every run with an empty metrics directory: old workers' counts belong to the old run."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    # Only prometheus_client's own files, in case the variable points at a shared directory.
    for stale in glob.glob(os.path.join(directory, "*.db")):
        os.remove(stale)
    server.log.info("Prometheus multi-process metrics in %s", directory)


def child_exit(server, worker) -> None:
    """A worker is gone: drop its live gauges (its counters stay, so totals never go down)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
