#!/usr/bin/env python3
"""Profile the lock path in one process: `.venv/bin/python bench/profile_lock.py [--locks 500]`.

Builds the app on a fresh PostgreSQL database (BENCH_PROFILE_DATABASE_URL, default
`.../ticketing_profile`), seeds 1,000 seats, then sends POST /seats/<id>/lock through Flask's test
client under cProfile and prints the 40 costliest functions by cumulative time, plus the
unprofiled rate of locks and of /healthz (the framework's floor) for comparison.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_jwt_extended import create_access_token
from sqlalchemy import event

from tests.databases import base_config, create_postgres_database, migrate
from ticketing import create_app
from ticketing.extensions import db
from ticketing.models import User
from ticketing.services.seeding import parse_rows, seed_event

URL = os.environ.get("BENCH_PROFILE_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/ticketing_profile")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locks", type=int, default=500)
    args = parser.parse_args()
    create_postgres_database(URL)
    migrate(URL)
    app = create_app(base_config(URL, MAX_SEATS_PER_USER=100_000, MAX_HOLDS_PER_ADDRESS=400_000, LOG_LEVEL="WARNING"))
    with app.app_context():
        seed_event(name="profile", rows=parse_rows("A-J"), per_row=100, price_cents=0, currency="USD", starts_at=None)
        user = User(email="profile@example.com", password_hash="-")
        db.session.add(user)
        db.session.commit()
        headers = {"Authorization": f"Bearer {create_access_token(identity=user)}"}
    client = app.test_client()
    for seat in range(1, 50):  # warm up: connections, compiled statements
        client.post(f"/seats/{seat}/lock", headers=headers)

    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    listener = lambda _conn, _cursor, statement, *_rest: statements.append(" ".join(statement.split())[:70])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    for seat in (50, 50, 51):  # a new hold, its renewal, a free seat
        client.post(f"/seats/{seat}/lock", headers=headers)
    event.remove(engine, "before_cursor_execute", listener)
    print(f"SQL statements per lock (new hold, renewal, new hold): {len(statements) / 3:.1f} {statements}")
    # Another user's hold refused: seat 50 is held by the first user.
    with app.app_context():
        other = User(email="other@example.com", password_hash="-")
        db.session.add(other)
        db.session.commit()
        other_headers = {"Authorization": f"Bearer {create_access_token(identity=other)}"}
    statements.clear()
    event.listen(engine, "before_cursor_execute", listener)
    assert client.post("/seats/50/lock", headers=other_headers).status_code == 409
    event.remove(engine, "before_cursor_execute", listener)
    print(f"SQL statements per refused lock (held by another user): {len(statements)} {statements}")

    started = time.perf_counter()
    for index in range(args.locks):
        client.post(f"/seats/{50 + index % 900}/lock", headers=headers)
    print(f"{args.locks / (time.perf_counter() - started):.0f} locks/s, one process, unprofiled")
    started = time.perf_counter()
    for _ in range(args.locks):
        client.get("/healthz")
    print(f"{args.locks / (time.perf_counter() - started):.0f} /healthz/s (the framework's floor)")

    profile = cProfile.Profile()
    profile.enable()
    for index in range(args.locks):
        client.post(f"/seats/{50 + index % 900}/lock", headers=headers)
    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
