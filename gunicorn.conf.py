"""gunicorn settings: `gunicorn -c gunicorn.conf.py` (gunicorn also reads this file by itself when
started from the project root). Command-line options win over what is set here.

The values come from config.py's `Settings`, read from the environment and the settings files
like the app's (`.env`, and `.env.development` only when the environment says APP_ENV=development):
GUNICORN_BIND (or PORT, on 127.0.0.1), WEB_CONCURRENCY (worker processes), GUNICORN_THREADS,
GUNICORN_KEEPALIVE, GUNICORN_MAX_REQUESTS (0 turns worker recycling off), LOG_LEVEL,
FORWARDED_ALLOW_IPS, PROMETHEUS_MULTIPROC_DIR (an empty directory of this host, tmpfs preferably,
for the workers' metric files; wiped of old files at start). A bad value of any setting, the
app's included, stops the master with one line `error: ...` before a worker starts (a worker that
refused to start would be replaced again and again), and so do settings production must not serve
with (config.start_refusals: no JWT_SECRET_KEY, the test payment gateway). What is unsafe but
allowed in production (config.start_warnings) is logged once, by the master, not by every worker.

The app is not imported by the master (no preload_app): each worker imports it after the fork, so
`kill -HUP <master>` starts workers on new code, and no database connection is shared across a fork.
"""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path

_config_was_imported = "config" in sys.modules
import config as _config  # noqa: E402 - every public name here is read as a gunicorn setting (`config` is one)

_dotenv = Path(__file__).resolve().with_name(".env")
try:
    # What the workers will see (wsgi.py loads the same files); read afresh on every start and `kill -HUP`.
    settings = _config.Settings.from_environment(_config.environment_with_dotenv(_dotenv))
    _app_settings = settings.app_config(str(Path(__file__).resolve().with_name("instance")))
    _config.check_start(_app_settings)
    _warnings = _config.start_warnings(
        _app_settings, workers=settings.web_concurrency, forwarded_allow_ips=settings.forwarded_allow_ips
    )
    _stale_dotenv = _config.stale_development_dotenv(_dotenv)
except _config.ConfigurationError as error:
    print(f"error: {error}", file=sys.stderr)
    raise SystemExit(1) from None
finally:
    # The workers import config.py themselves, from disk: after `kill -HUP`, the new code's.
    if not _config_was_imported:
        del sys.modules["config"]
# The workers inherit this: the master logs the start warnings (on_starting), they do not.
os.environ[_config.WARNED_AT_START] = "1"

wsgi_app = "wsgi:app"
proc_name = "ticketing"

# Loopback unless told otherwise (a reverse proxy or load balancer in front); GUNICORN_BIND takes
# gunicorn's forms: "0.0.0.0:8000", "unix:/run/ticketing.sock", or several separated by commas.
bind = settings.bind

# The work is mostly waiting on PostgreSQL, so processes x threads may exceed the cores. Each
# thread holds at most one database connection, and the worker's feed watcher one more; a worker's
# pool opens at most DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW (5 + 4 = 9 = 8 threads + 1), so
# hosts x workers x 9 must fit the database's connection budget (docs/operations.md; each worker
# logs its share at start). A held change-feed request holds a thread (not a connection) while it
# waits, hence 8 threads. 2 cores: 5 workers x 8 threads.
workers = settings.web_concurrency
threads = settings.gunicorn_threads
# gthread, except that a held change-feed request (`wait` up to 25 s) keeps its connection but no
# thread while it waits (holding_worker.py): open seat maps never take the threads from the rest.
worker_class = "holding_worker.HoldingThreadWorker"
# Connections per worker, held feeds and idle keep-alive ones included; past it the worker stops
# accepting until some close. The per-address cap (MAX_HELD_FEEDS_PER_ADDRESS) keeps one client
# from taking them all.
worker_connections = 1000

# A worker that does not report to the master for `timeout` seconds is killed and replaced. With
# gthread the heartbeat comes from the worker's main loop, so a long poll (`wait` up to 25 s) does
# not trip it.
timeout = 30
# On SIGTERM or a reload, workers finish the requests in flight for up to this long.
graceful_timeout = 20
# Idle keep-alive connections are kept this long; behind a load balancer, make it longer than the
# balancer's own idle timeout (e.g. GUNICORN_KEEPALIVE=75 behind an AWS ALB's 60 s).
keepalive = settings.gunicorn_keepalive

# Replace each worker after about this many requests (a guard against slow leaks); the jitter keeps
# workers from restarting all at once. Every new worker starts new metric files, so not too low.
max_requests = settings.gunicorn_max_requests
max_requests_jitter = max_requests // 10

# The request head's limits. The app answers heads past MAX_URL_LENGTH, MAX_HEADER_BYTES and
# MAX_HEADER_COUNT with JSON (414 uri_too_long, 431 headers_too_large); gunicorn's own limits sit
# above them, so that its plain-text answers (400, 414, 431, before the app is reached) come only
# for heads far past the app's. limit_request_line is gunicorn's maximum (8190, the request line:
# method, target, version; MAX_URL_LENGTH is at most 8000). A reverse proxy in front has limits of
# its own (docs/operations.md).
limit_request_line = 8190
limit_request_field_size = 2 * settings.max_header_bytes
limit_request_fields = 2 * settings.max_header_count

# Proxies trusted for X-Forwarded-Proto (gunicorn's own FORWARDED_ALLOW_IPS, checked like the rest).
forwarded_allow_ips = settings.forwarded_allow_ips

# The app writes one JSON access line per request itself (logger `ticketing.access`).
accesslog = None
errorlog = "-"
loglevel = settings.log_level.lower()

# The control socket's default path is shared by every gunicorn of the user on the machine.
control_socket_disable = True

# The worker heartbeat file on tmpfs: on a disk-backed /tmp (some container images) it can block.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"


def on_starting(server) -> None:
    """Check what needs the final number of workers (command-line options included), say which
    environment this is and what is unsafe in it, then start every run with an empty metrics
    directory: old workers' counts belong to the old run."""
    try:
        settings.require_shared_limits(server.cfg.workers)
    except _config.ConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    server.log.info("Running with APP_ENV=%s", settings.app_env)
    for warning in ([_stale_dotenv] if _stale_dotenv else []) + _warnings:
        server.log.warning(warning)
    directory = settings.prometheus_multiproc_dir
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    # Only prometheus_client's own files, in case the variable points at a shared directory.
    for stale in glob.glob(os.path.join(directory, "*.db")):
        os.remove(stale)
    server.log.info("Prometheus multi-process metrics in %s", directory)


def post_worker_init(worker) -> None:
    """Each worker says at start how many database connections it and this host may open."""
    worker.log.info(settings.connection_share(worker.cfg.workers, worker.cfg.threads))


def child_exit(server, worker) -> None:
    """A worker is gone: drop its live gauges (its counters stay, so totals never go down)."""
    if settings.prometheus_multiproc_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, settings.prometheus_multiproc_dir)
