#!/usr/bin/env python3
"""Profile the door's check-in in one process: `.venv/bin/python bench/profile_checkin.py [--scans 500]`.

Builds the app on a fresh PostgreSQL database (BENCH_PROFILE_DATABASE_URL, default
`.../ticketing_profile_checkin`), seeds an event of 10,000 seats with a ticket on each, then sends
POST /events/<id>/checkins (a platform admin at the door, each scan a ticket not scanned before)
through Flask's test client. Prints the SQL statements of one admission, one second scan of the same
ticket and one retried nonce (an engine `before_cursor_execute` listener), the unprofiled rate
and CPU time of scans beside the framework's floor (`/healthz`), then the 40 costliest functions under cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_jwt_extended import create_access_token
from sqlalchemy import event, insert, select

from tests.databases import base_config, create_postgres_database, migrate
from ticketing import create_app
from ticketing.extensions import db
from ticketing.models import Seat, Ticket, User
from ticketing.services.seeding import parse_rows, seed_event

URL = os.environ.get(
    "BENCH_PROFILE_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/ticketing_profile_checkin"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scans", type=int, default=500)
    args = parser.parse_args()
    create_postgres_database(URL)
    migrate(URL)
    app = create_app(base_config(URL, LOG_LEVEL="WARNING"))
    with app.app_context():
        seeded = seed_event(
            name="profile", rows=parse_rows("A-T"), per_row=500, price_cents=0, currency="USD", starts_at=None
        )
        door = User(email="door@example.com", password_hash="-", is_admin=True)
        holder = User(email="holder@example.com", password_hash="-")
        db.session.add_all([door, holder])
        db.session.flush()
        seat_ids = list(db.session.scalars(select(Seat.id).where(Seat.event_id == seeded.id).order_by(Seat.id)))
        codes = [secrets.token_urlsafe(16) for _ in seat_ids]
        db.session.execute(
            insert(Ticket.__table__),
            [{"code": c, "seat_id": s, "user_id": holder.id} for c, s in zip(codes, seat_ids, strict=True)],
        )
        db.session.commit()
        headers = {"Authorization": f"Bearer {create_access_token(identity=door)}"}
        engine = db.engine
    client = app.test_client()
    path = f"/events/{seeded.id}/checkins"
    fresh = iter(codes)

    def scan(code: str, nonce: str | None = None) -> int:
        body = {"code": code, "nonce": nonce or secrets.token_hex(8), "gate": "North"}
        return client.post(path, json=body, headers=headers).status_code

    def health() -> int:
        return client.get("/healthz").status_code

    for _ in range(50):  # warm up: connections, compiled statements
        assert scan(next(fresh)) == 201

    statements: list[str] = []
    listener = lambda _conn, _cursor, statement, *_rest: statements.append(" ".join(statement.split())[:80])  # noqa: E731
    code = next(fresh)
    for label, send in (
        ("an admission", lambda: scan(code, "first")),
        ("the same ticket again (already_checked_in)", lambda: scan(code)),
        ("a retried nonce", lambda: scan(code, "first")),
    ):
        statements.clear()
        event.listen(engine, "before_cursor_execute", listener)
        status = send()
        event.remove(engine, "before_cursor_execute", listener)
        print(f"SQL statements for {label} ({status}): {len(statements)}")
        for statement in statements:
            print(f"    {statement}")

    for label, send in (("check-ins", lambda: scan(next(fresh))), ("/healthz (the framework's floor)", health)):
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.scans):
            send()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"{args.scans / wall:.0f} {label}/s, one process, unprofiled: {cpu * 1000 / args.scans:.2f} ms CPU each")

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.scans):
        scan(next(fresh))
    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
