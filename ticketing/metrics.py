"""Prometheus metrics, defined once per process, and the one-line calls that count domain events.

Creating a metric twice in one process raises, and tests build many apps in one process, so the
metrics live here at module level and nowhere else. With `PROMETHEUS_MULTIPROC_DIR` set (gunicorn
with several workers) prometheus_client keeps every value in a per-process file of that
directory, and `/metrics` adds the files up; without it, values live in this process only.

Counting never fails a request: a metric that cannot be written is logged and skipped.
"""

from __future__ import annotations

import functools
import logging
import os

from prometheus_client import Counter, Gauge, Histogram

from config import read_one

log = logging.getLogger(__name__)

LOCK_CONFLICT_CODES = ("seat_locked", "seats_unavailable")
ORDER_STATUSES = ("created", "paid", "payment_failed", "cancelled", "expired")

# prometheus_client chose its mode from the environment when it was imported, so this is read from
# the environment too, once per process (app.config cannot change it).
MULTIPROCESS_DIR: str | None = read_one("PROMETHEUS_MULTIPROC_DIR")
if MULTIPROCESS_DIR:
    # A flask command started with the server's environment must not die on a missing directory.
    os.makedirs(MULTIPROCESS_DIR, exist_ok=True)

HTTP_REQUESTS = Counter(
    "ticketing_http_requests",
    "HTTP requests answered, by method, route template (not the raw path) and status.",
    ["method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "ticketing_http_request_duration_seconds",
    "Time from the start of the request to its answer, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
SEAT_LOCKS = Counter(
    "ticketing_seat_locks",
    "Seat locks taken through POST /seats/<id>/lock: kind=new, or kind=renewed by their holder.",
    ["kind"],
)
LOCK_CONFLICTS = Counter(
    "ticketing_lock_conflicts",
    "Requests refused because someone else holds or bought a seat (409 seat_locked, seats_unavailable).",
    ["code"],
)
LOCK_WAIT_TIMEOUTS = Counter(
    "ticketing_lock_wait_timeouts",
    "Requests that could not get a row lock within LOCK_TIMEOUT_MS (503 busy).",
)
ORDERS = Counter(
    "ticketing_orders",
    "Orders created, and orders moved to paid, payment_failed, cancelled or expired (counted at commit).",
    ["status"],
)
ERRORS = Counter(
    "ticketing_errors",
    "Domain errors answered, by their code (e.g. hold_limit_reached, payment_declined, busy).",
    ["code"],
)
FEED_REQUESTS_WAITING = Gauge(
    "ticketing_feed_requests_waiting",
    "Change-feed requests waiting for a change (held long polls), summed over the live workers.",
    multiprocess_mode="livesum",
)

# Series that exist from the start read 0 instead of being absent until the first event.
for _kind in ("new", "renewed"):
    SEAT_LOCKS.labels(kind=_kind)
for _code in LOCK_CONFLICT_CODES:
    LOCK_CONFLICTS.labels(code=_code)
for _status in ORDER_STATUSES:
    ORDERS.labels(status=_status)


def _never_raises(count):
    @functools.wraps(count)
    def safely(*args, **kwargs) -> None:
        try:
            count(*args, **kwargs)
        except Exception:  # e.g. a full disk under PROMETHEUS_MULTIPROC_DIR
            log.warning("metric %s not recorded", count.__name__, exc_info=True)

    return safely


@_never_raises
def record_request(*, method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered HTTP request and its duration."""
    HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
    HTTP_REQUEST_DURATION.labels(method=method, route=route).observe(seconds)


@_never_raises
def record_seat_lock(*, renewed: bool) -> None:
    """Count a seat lock taken (or renewed by its holder)."""
    SEAT_LOCKS.labels(kind="renewed" if renewed else "new").inc()


@_never_raises
def record_error(code: str) -> None:
    """Count a domain error answered to a client; lock conflicts and lock-wait timeouts also on their own."""
    ERRORS.labels(code=code).inc()
    if code in LOCK_CONFLICT_CODES:
        LOCK_CONFLICTS.labels(code=code).inc()
    elif code == "busy":
        LOCK_WAIT_TIMEOUTS.inc()


@_never_raises
def record_order_statuses(statuses: list[str]) -> None:
    """Count orders created ("created") or moved to a new status, once their transaction committed."""
    for status in statuses:
        ORDERS.labels(status=status).inc()


@_never_raises
def record_feed_waiting(delta: int) -> None:
    """One more (1) or one fewer (-1) change-feed request waiting."""
    FEED_REQUESTS_WAITING.inc(delta)
