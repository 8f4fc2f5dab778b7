"""Request ids, JSON logs, Prometheus metrics and the sweeper loop, in process.

The sweeper as a process and gunicorn's multi-process metrics are in tests/server/test_processes.py.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sqlite3
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.helpers import TEST_LIMITS
from ticketing.cli import run_sweeper
from ticketing.models import utcnow
from ticketing.services.orders import create_order

FLASK = Path(sys.executable).with_name("flask")
GENERATED_ID = re.compile(r"[0-9a-f]{32}")
LOCK_ROUTE = "/seats/<id:seat_id>/lock"


def metric_values(client) -> dict[tuple[str, tuple], float]:
    """Every sample of the app's `/metrics`."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return parse_metrics(response.get_data(as_text=True))


def parse_metrics(text: str) -> dict[tuple[str, tuple], float]:
    """Prometheus text as {(sample name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(values: dict, name: str, **labels: str) -> float:
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: dict, after: dict, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def json_lines(text: str) -> list[dict]:
    """Parse stderr: every line must be one JSON object."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- request id --------------------------------------------------------------------------------


def test_request_id_is_echoed_or_generated(client):
    given = client.get("/healthz", headers={"X-Request-ID": "edge-42.a_b-c"})
    assert given.headers["X-Request-ID"] == "edge-42.a_b-c"
    first, second = client.get("/healthz"), client.get("/healthz")
    assert GENERATED_ID.fullmatch(first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    missing = client.get("/no/such/thing", headers={"X-Request-ID": "lost-1"})
    assert missing.status_code == 404 and missing.headers["X-Request-ID"] == "lost-1"
    assert GENERATED_ID.fullmatch(client.get("/no/such/thing").headers["X-Request-ID"])
    anonymous = client.post("/seats/1/lock", headers={"X-Request-ID": "who-1"})
    assert anonymous.status_code == 401 and anonymous.headers["X-Request-ID"] == "who-1"
    assert GENERATED_ID.fullmatch(client.post("/seats/1/lock").headers["X-Request-ID"])


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "semi;colon", "new\u00e9", "a/b"])
def test_an_unsafe_request_id_is_replaced(client, bad):
    response = client.get("/healthz", headers={"X-Request-ID": bad})
    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])


def test_the_longest_safe_request_id_is_kept(client):
    longest = "A" * 128
    assert client.get("/healthz", headers={"X-Request-ID": longest}).headers["X-Request-ID"] == longest


# --- JSON logs ---------------------------------------------------------------------------------


def test_log_lines_are_json_and_carry_the_request_id(app, api, client, capsys):
    def noisy():
        logging.getLogger("ticketing.test").warning("inside the view", extra={"seat_id": 6})
        return {"ok": True}

    app.add_url_rule("/test/noisy", view_func=noisy)
    user = api.user()
    capsys.readouterr()

    client.get("/test/noisy", headers={"X-Request-ID": "trace-noisy"})
    client.get("/auth/me", headers={**user["headers"], "X-Request-ID": "trace-me"})
    client.get("/no/such/thing", headers={"X-Request-ID": "trace-404"})
    lines = json_lines(capsys.readouterr().err)

    inside = next(line for line in lines if line["message"] == "inside the view")
    assert inside["request_id"] == "trace-noisy" and inside["seat_id"] == 6
    assert inside["level"] == "WARNING" and inside["logger"] == "ticketing.test"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", inside["time"])

    access = {line["request_id"]: line for line in lines if line["logger"] == "ticketing.access"}
    me = access["trace-me"]
    assert (me["method"], me["path"], me["status"], me["user_id"]) == ("GET", "/auth/me", 200, user["id"])
    assert me["remote_addr"] == "127.0.0.1" and isinstance(me["duration_ms"], float)
    assert me["level"] == "INFO" and me["message"] == "GET /auth/me 200"
    assert access["trace-noisy"]["user_id"] is None
    assert (access["trace-404"]["status"], access["trace-404"]["route"]) == (404, "unmatched")


def test_log_level_comes_from_the_settings(app, client, capsys):
    logger = logging.getLogger("ticketing")
    assert logger.level == logging.getLevelName(app.config["LOG_LEVEL"])
    capsys.readouterr()
    logging.getLogger("ticketing.test").debug("too fine to print")
    assert "too fine to print" not in capsys.readouterr().err


# --- metrics -----------------------------------------------------------------------------------


def test_metrics_count_requests_per_route_template(api, client):
    seat = api.seed(rows="A", per_row=7)["seat_ids"][5]
    user = api.user()
    before = metric_values(client)
    assert client.post(f"/seats/{seat}/lock", headers=user["headers"]).status_code == 200
    assert client.post(f"/seats/{seat}/lock").status_code == 401
    after = metric_values(client)

    name = "ticketing_http_requests_total"
    assert moved(before, after, name, method="POST", route=LOCK_ROUTE, status="200") == 1
    assert moved(before, after, name, method="POST", route=LOCK_ROUTE, status="401") == 1
    routes = {dict(labels).get("route") for (sample, labels) in after if sample == name}
    assert not any(str(seat) in route for route in routes if route), routes
    assert not any(route == "/metrics" for route in routes)
    histogram = "ticketing_http_request_duration_seconds_count"
    assert moved(before, after, histogram, method="POST", route=LOCK_ROUTE) == 2


def test_domain_counters_move_with_locks_conflicts_and_orders(api, app, client):
    seats = api.seed(rows="A", per_row=8, price_cents=2500)["seat_ids"]
    ann, bob = api.user(), api.user()
    before = metric_values(client)

    assert client.post(f"/seats/{seats[0]}/lock", headers=ann["headers"]).status_code == 200
    assert client.post(f"/seats/{seats[0]}/lock", headers=ann["headers"]).status_code == 200  # renewed
    assert client.post(f"/seats/{seats[0]}/lock", headers=bob["headers"]).get_json()["code"] == "seat_locked"
    refused = client.post("/orders", json={"seat_ids": [seats[0], seats[1]]}, headers=bob["headers"])
    assert refused.get_json()["code"] == "seats_unavailable"

    paid = client.post("/orders", json={"seat_ids": [seats[2], seats[3]]}, headers=bob["headers"]).get_json()
    pay = client.post(f"/orders/{paid['order']['id']}/pay", json={"payment_token": "tok_visa"}, headers=bob["headers"])
    assert pay.status_code == 200
    declined = client.post("/orders", json={"seat_ids": [seats[4]]}, headers=bob["headers"]).get_json()
    no = client.post(
        f"/orders/{declined['order']['id']}/pay", json={"payment_token": "tok_chargeDeclined"}, headers=bob["headers"]
    )
    assert no.status_code == 402
    cancelled = client.post("/orders", json={"seat_ids": [seats[5]]}, headers=bob["headers"]).get_json()
    assert client.post(f"/orders/{cancelled['order']['id']}/cancel", headers=bob["headers"]).status_code == 200
    with app.app_context():
        create_order(
            user_id=ann["id"],
            seat_ids=[seats[6]],
            clock=lambda: utcnow() - timedelta(seconds=700),
            checkout_seconds=600,
            limits=TEST_LIMITS,
        )
    assert "expired 1 orders" in app.test_cli_runner().invoke(args=["expire-holds"]).output
    after = metric_values(client)

    assert moved(before, after, "ticketing_seat_locks_total", kind="new") == 1
    assert moved(before, after, "ticketing_seat_locks_total", kind="renewed") == 1
    assert moved(before, after, "ticketing_lock_conflicts_total", code="seat_locked") == 1
    assert moved(before, after, "ticketing_lock_conflicts_total", code="seats_unavailable") == 1
    assert moved(before, after, "ticketing_errors_total", code="payment_declined") == 1
    orders = {
        status: moved(before, after, "ticketing_orders_total", status=status)
        for status in ("created", "paid", "payment_failed", "cancelled", "expired")
    }
    assert orders == {"created": 4, "paid": 1, "payment_failed": 1, "cancelled": 1, "expired": 1}


def test_refused_and_rolled_back_changes_count_nothing(api, client):
    seats = api.seed(rows="A", per_row=2)["seat_ids"]
    ann, bob = api.user(), api.user()
    client.post(f"/seats/{seats[0]}/lock", headers=ann["headers"])
    before = metric_values(client)
    assert client.post("/orders", json={"seat_ids": seats}, headers=bob["headers"]).status_code == 409
    after = metric_values(client)
    assert moved(before, after, "ticketing_orders_total", status="created") == 0
    assert moved(before, after, "ticketing_seat_locks_total", kind="new") == 0


@contextlib.contextmanager
def holding_seat_row(database_url: str, seat_id: int):
    """Hold what a lock request needs from another connection: the seat's row (PostgreSQL) or the
    database's write lock (SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
    else:
        connection = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
        connection.execute("SELECT id FROM seats WHERE id = %s FOR UPDATE", (seat_id,))
    try:
        yield
    finally:
        connection.rollback()
        connection.close()


def test_lock_wait_timeouts_are_counted(settings, request, database_url):
    settings["LOCK_TIMEOUT_MS"] = 200
    api, client = request.getfixturevalue("api"), request.getfixturevalue("client")
    seat = api.seed(rows="A", per_row=1)["seat_ids"][0]
    user = api.user()
    before = metric_values(client)
    with holding_seat_row(database_url, seat):
        response = client.post(f"/seats/{seat}/lock", headers=user["headers"])
    assert response.status_code == 503 and response.get_json()["code"] == "busy"
    after = metric_values(client)
    assert moved(before, after, "ticketing_lock_wait_timeouts_total") == 1
    assert moved(before, after, "ticketing_http_requests_total", method="POST", route=LOCK_ROUTE, status="503") == 1


# --- the sweeper -------------------------------------------------------------------------------


def test_sweeper_survives_a_failed_pass(app, capsys):
    calls = []
    stop = threading.Event()

    def tidy():
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        if len(calls) == 3:
            stop.set()
        return {"released_locks": 0}

    with app.app_context():
        run_sweeper(interval=0.1, stop=stop, tidy=tidy)
    assert len(calls) == 3
    assert calls[1] - calls[0] >= 0.09  # it waited before trying again
    lines = json_lines(capsys.readouterr().err)
    failure = next(line for line in lines if line["message"].startswith("sweeper pass failed"))
    assert failure["level"] == "ERROR" and "server closed the connection" in failure["exception"]
    assert [line["message"] for line in lines].count("sweeper pass") == 2
