#!/usr/bin/env python3
"""Memory of the attendee CSV and time of the report on a 100,000-ticket event (issue 14).

    BENCH_DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/attendees_csv.py [--seats 100000]

Makes a fresh database at BENCH_DATABASE_URL (PostgreSQL; it is dropped and created), an event of
--seats seats and one of a tenth of that (rows of 1,000), each sold out in orders of 4 seats with 1%
of the orders refunded. Then each measure runs in a fresh process through the app (Flask's test
client, no network), after one warm-up request (`GET /report`: imports, connection pool):
- `GET /events/<id>/attendees.csv` streamed, on both events: rows and bytes read, time, and the
  growth of the process's peak RSS over its RSS before the request (VmHWM reset through
  /proc/self/clear_refs). Flat memory: the same growth for 10x the tickets;
- the same read with the whole answer buffered (as a client that keeps the file would), for contrast;
- `GET /events/<id>/report` on the large event: the median and best of --runs requests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_jwt_extended import create_access_token
from sqlalchemy import select, text

from tests.databases import base_config, create_postgres_database, migrate
from ticketing import create_app
from ticketing.extensions import db
from ticketing.models import User
from ticketing.services.gateways import FakeGateway
from ticketing.services.seeding import parse_rows, seed_event

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_attendees")
PER_ROW = 1000


def _kib(field: str) -> int:
    """A figure of /proc/self/status in KiB (VmRSS: now, VmHWM: the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux 4.0+)


def sold_out_event(app, seats: int, *, admin: bool) -> int:
    """An event of `seats` seats, every one sold (orders of 4 at 25.00 a seat), 1% of orders refunded."""
    rows = parse_rows(f"A-{_row_name(seats // PER_ROW - 1)}")
    with app.app_context():
        event = seed_event(name="Stadium", rows=rows, per_row=PER_ROW, price_cents=2500, currency="USD", starts_at=None)
        buyer = User(email=f"buyer{event.id}@bench.example", password_hash="-")
        db.session.add(buyer)
        if admin:
            db.session.add(User(email="admin@bench.example", password_hash="-", is_admin=True))
        db.session.commit()
        parameters = {"event": event.id, "buyer": buyer.id}
        statements = (
            """INSERT INTO orders (user_id, event_id, status, total_cents, currency, expires_at, created_at, paid_at,
                                   refunded_cents)
               SELECT :buyer, :event, 'paid', 10000, 'USD', now(), now(), now(), 0
               FROM seats WHERE event_id = :event AND (id - 1) % 4 = 0""",
            """CREATE TEMP TABLE bench_seat_orders AS
               SELECT s.id AS seat_id, o.id AS order_id
               FROM seats s JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM orders
                                  WHERE event_id = :event) o
                 ON o.n = (s.id - (SELECT min(id) FROM seats WHERE event_id = :event)) / 4 + 1
               WHERE s.event_id = :event""",
            "INSERT INTO order_seats (order_id, seat_id) SELECT order_id, seat_id FROM bench_seat_orders",
            """INSERT INTO tickets (code, seat_id, user_id, order_id, created_at, status)
               SELECT substr(md5(seat_id::text), 1, 22), seat_id, :buyer, order_id, now(), 'valid'
               FROM bench_seat_orders""",
            """UPDATE seats SET status = 'booked', holder_id = :buyer, order_id = b.order_id
               FROM bench_seat_orders b WHERE seats.id = b.seat_id""",
            # 1% of the orders refunded: their tickets void and their seats on sale again.
            """UPDATE orders SET status = 'refunded', refunded_cents = 10000
               WHERE event_id = :event AND id % 100 = 0""",
            """UPDATE tickets SET status = 'void', voided_at = now()
               WHERE order_id IN (SELECT id FROM orders WHERE event_id = :event AND status = 'refunded')""",
            """UPDATE seats SET status = 'available', holder_id = NULL, order_id = NULL
               WHERE event_id = :event AND id IN (SELECT seat_id FROM tickets WHERE status = 'void')""",
            "ANALYZE",
        )
        for statement in statements:
            db.session.execute(text(statement), parameters)
        db.session.commit()
        db.session.execute(text("DROP TABLE bench_seat_orders"))
        db.session.commit()
        db.session.remove()
    return event.id


def _row_name(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def read_csv(client, url: str, headers: dict, *, buffered: bool) -> dict:
    _reset_peak()
    before = _kib("VmRSS")
    started = time.perf_counter()
    response = client.get(url, headers=headers, buffered=buffered)
    assert response.status_code == 200, response.status_code
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    response.close()
    return {
        "seconds": time.perf_counter() - started,
        "bytes": size,
        "lines": lines,
        "peak_growth_kib": _kib("VmHWM") - before,
    }


def child(event_id: int, mode: str, runs: int) -> None:
    """One measure in this (fresh) process; prints one line."""
    app = create_app(base_config(DATABASE_URL, PAYMENT_GATEWAY=FakeGateway()))
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.is_admin))
        headers = {"Authorization": f"Bearer {create_access_token(identity=admin)}"}
        db.session.remove()
    client = app.test_client()
    assert client.get(f"/events/{event_id}/report", headers=headers).status_code == 200  # warm-up
    if mode == "report":
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            answer = client.get(f"/events/{event_id}/report", headers=headers)
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200
        report = answer.get_json()["report"]
        print(
            f"report of event {event_id}: median {statistics.median(times) * 1000:.0f} ms, best "
            f"{min(times) * 1000:.0f} ms over {runs} runs; seats {report['seats']}, tickets {report['tickets']}, "
            f"revenue {report['revenue']}"
        )
    else:
        figures = read_csv(client, f"/events/{event_id}/attendees.csv", headers, buffered=mode == "buffered")
        print(
            f"attendees.csv of event {event_id} {mode}: {figures['lines'] - 1:,} rows, "
            f"{figures['bytes'] / 1e6:.1f} MB in {figures['seconds']:.2f} s; peak RSS growth "
            f"{figures['peak_growth_kib'] / 1024:.1f} MiB"
        )
    with app.app_context():
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seats", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", nargs=2, metavar=("EVENT_ID", "MODE"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(int(arguments.child[0]), arguments.child[1], arguments.runs)
        return
    create_postgres_database(DATABASE_URL)
    migrate(DATABASE_URL)
    app = create_app(base_config(DATABASE_URL, PAYMENT_GATEWAY=FakeGateway()))
    started = time.perf_counter()
    large = sold_out_event(app, arguments.seats, admin=True)
    small = sold_out_event(app, arguments.seats // 10, admin=False)
    print(
        f"events {large} ({arguments.seats:,} seats) and {small} ({arguments.seats // 10:,}) sold out in "
        f"{time.perf_counter() - started:.1f} s (set-up)",
        flush=True,
    )
    with app.app_context():
        db.engine.dispose()
    for event_id, mode in ((small, "streamed"), (large, "streamed"), (large, "buffered"), (large, "report")):
        subprocess.run(
            [sys.executable, __file__, "--runs", str(arguments.runs), "--child", str(event_id), mode], check=True
        )


if __name__ == "__main__":
    main()
