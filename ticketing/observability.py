"""Operations: structured JSON logs with a request id, and Prometheus metrics.

- Every log record of the process is one JSON line on stderr (`time`, `level`, `logger`,
  `message`, `request_id`, then the record's `extra` fields); `LOG_LEVEL` sets the app's level.
- Every request gets an id: the caller's `X-Request-ID` when it is sane, else a new one. It is
  echoed on every answer (errors too) and carried by every log line written during the request,
  and each request ends with one access line (logger `ticketing.access`).
- `GET /metrics` serves the metrics of `ticketing.metrics` in Prometheus' text format, summed over
  every gunicorn worker when `PROMETHEUS_MULTIPROC_DIR` is set; with `METRICS_TOKEN` set, only
  for that Bearer token.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, current_app, g, has_request_context, jsonify, request
from flask.logging import default_handler
from flask_jwt_extended import get_jwt
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event, inspect

from config import LOG_LEVELS, ConfigurationError

from . import metrics
from .extensions import db
from .holding import HELD
from .models import Order

REQUEST_ID_HEADER = "X-Request-ID"
METRICS_PATH = "/metrics"
APP_LOGGER = __name__.partition(".")[0]  # "ticketing": every module logger of the app sits below it

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_UNMATCHED_ROUTE = "unmatched"  # 404/405 before routing found a rule: one series, not one per path
_ORDER_CHANGES = "ticketing_order_status_changes"  # key in Session.info

access_log = logging.getLogger(f"{APP_LOGGER}.access")


# --- JSON logs ---------------------------------------------------------------------------------

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged too.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class _RequestIdFilter(logging.Filter):
    """Stamp each record with the id of the request being served (None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


class _StderrHandler(logging.StreamHandler):
    """Write to whatever `sys.stderr` is when a record comes (click and pytest swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


_handler = _StderrHandler()
_handler.setFormatter(JsonFormatter())
_handler.addFilter(_RequestIdFilter())


def configure_logging(level: str) -> None:
    """Send every record of the process to stderr as JSON; the app's own records from `level` up.

    The handler sits on the root logger so that libraries' warnings are JSON too; the root keeps
    its WARNING level, so only the app's loggers follow LOG_LEVEL. Idempotent (tests build many apps).
    """
    if level not in LOG_LEVELS:
        raise ConfigurationError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    root = logging.getLogger()
    if _handler not in root.handlers:
        root.addHandler(_handler)
    app_logger = logging.getLogger(APP_LOGGER)
    app_logger.removeHandler(default_handler)  # Flask's plain-text handler, if app.logger added it
    app_logger.setLevel(level)


# --- request id, access log, request metrics ---------------------------------------------------


def _incoming_request_id() -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _start_request() -> None:
    held = request.environ.get(HELD)  # run again after a hold: one request, one id, one duration
    g.request_id = (held or {}).get("request_id") or _incoming_request_id()
    g.request_started = (held or {}).get("started") or time.perf_counter()


def _verified_user_id() -> int | str | None:
    try:
        subject = get_jwt().get("sub")  # raises when no token was verified in this request
    except RuntimeError:
        return None
    try:
        return int(subject)
    except (TypeError, ValueError):
        return subject


def _finish_request(response: Response) -> Response:
    if "request_id" not in g:  # a before_request hook answered before ours ran
        _start_request()
    response.headers[REQUEST_ID_HEADER] = g.request_id
    if g.get("held"):  # held without a thread: logged and counted when it is answered
        return response
    seconds = time.perf_counter() - g.request_started
    method = request.method if request.method in _METHODS else "OTHER"
    route = request.url_rule.rule if request.url_rule is not None else _UNMATCHED_ROUTE
    if request.path != METRICS_PATH:
        metrics.record_request(method=method, route=route, status=response.status_code, seconds=seconds)
    access_log.log(
        logging.WARNING if response.status_code >= 500 else logging.INFO,
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
            "remote_addr": request.remote_addr,
            "user_id": _verified_user_id(),
        },
    )
    return response


def metrics_view() -> Response:
    """Prometheus text exposition; in multi-process mode the sum of every worker's files.

    With METRICS_TOKEN set, only for `Authorization: Bearer <METRICS_TOKEN>` (else a JSON 401).
    """
    token = current_app.config.get("METRICS_TOKEN")
    if token and not _bears(token):
        response = jsonify({"code": "unauthorized", "message": "GET /metrics needs the metrics Bearer token."})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if metrics.MULTIPROCESS_DIR:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _bears(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Compared in constant time: the answer's timing must not tell how much of a guess was right.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


# --- order status changes, counted when their transaction commits -----------------------------


def _note_order_changes(session, _flush_context) -> None:
    # After a flush, `new`, `dirty` and attribute history still describe what was just written.
    changes = session.info.setdefault(_ORDER_CHANGES, [])
    changes.extend("created" for instance in session.new if isinstance(instance, Order))
    changes.extend(
        instance.status
        for instance in session.dirty
        if isinstance(instance, Order) and inspect(instance).attrs.status.history.has_changes()
    )


def _count_order_changes(session) -> None:
    changes = session.info.pop(_ORDER_CHANGES, None)
    if changes:
        metrics.record_order_statuses(changes)


def _forget_order_changes(session, *_args) -> None:
    session.info.pop(_ORDER_CHANGES, None)


def _listen_to_order_changes() -> None:
    """Count order transitions at commit, wherever a service makes them (once per process)."""
    for name, listener in (
        ("after_flush", _note_order_changes),
        ("after_commit", _count_order_changes),
        ("after_rollback", _forget_order_changes),
    ):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def init_observability(app: Flask) -> None:
    """Install request-id handling, JSON logging and metrics on the app."""
    configure_logging(app.config.get("LOG_LEVEL", "INFO"))
    # First among the before-request hooks, so that even an early answer (a rate limit) has an id;
    # first registered among the after-request hooks, which Flask runs last, so the log sees the end.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request_funcs.setdefault(None, []).insert(0, _finish_request)
    app.add_url_rule(METRICS_PATH, endpoint="metrics", view_func=metrics_view, methods=["GET"])
    _listen_to_order_changes()
