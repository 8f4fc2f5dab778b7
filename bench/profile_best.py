#!/usr/bin/env python3
"""Profile best available in one process: `.venv/bin/python bench/profile_best.py [--asks 200]`.

Builds the app on a fresh PostgreSQL database (BENCH_PROFILE_DATABASE_URL, default
`.../ticketing_profile`), makes events of 1,000, 20,000 and 100,000 seats from layouts (as
bench/best_available.py does) and sells half of each at random. Then, per event, through Flask's test
client: the SQL statements of one `POST /events/<id>/best-available` (a request alone, after a warm
up), and the unprofiled time of `--asks` asks in a row (each block given back right after, untimed).
Last, cProfile of the asks on the 100,000-seat event: the 30 costliest functions by cumulative and by
own time. Figures that do not depend on the machine's load: statements per ask.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from best_available import arena_layout, categories_of, small_layout
from create_event import big_layout
from flask_jwt_extended import create_access_token
from sqlalchemy import event, text

from tests.databases import base_config, create_postgres_database, migrate
from ticketing import create_app
from ticketing.extensions import db
from ticketing.models import User
from ticketing.services import best_available as best_available_service
from ticketing.services import organizations, organizer, venues

URL = os.environ.get("BENCH_PROFILE_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/ticketing_profile")


def make_event(owner_id: int, organization_id: int, name: str, layout: dict) -> int:
    venue = venues.create_venue(user_id=None, organization_id=organization_id, name=name, layout=layout)
    new = organizer.NewEvent(
        name=name,
        venue_id=venue.id,
        starts_at=datetime(2099, 6, 1, 20, tzinfo=UTC).replace(tzinfo=None),
        currency="USD",
        categories=[(category["name"], 2500) for category in categories_of(layout)],
        default_price_cents=None,
        sales_start=None,
        sales_end=None,
        no_orphan_seats=False,
        buyer_refunds_until=None,
    )
    clock = lambda: datetime.now(UTC).replace(tzinfo=None)  # noqa: E731
    summary = organizer.create_event(user_id=owner_id, organization_id=organization_id, event=new, clock=clock)
    organizer.set_status(user_id=owner_id, event_id=summary.id, status="on_sale", clock=clock)
    db.session.execute(text("SELECT setseed(0.16)"))
    db.session.execute(
        text("UPDATE seats SET status = 'booked' WHERE event_id = :e AND status = 'available' AND random() < 0.5"),
        {"e": summary.id},
    )
    db.session.commit()
    return summary.id


def ask(client, event_id: int, headers: dict, count: int) -> None:
    response = client.post(f"/events/{event_id}/best-available", json={"count": count}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response


def give_back(client, response, headers: dict) -> None:
    for seat in response.get_json()["seats"]:
        assert client.delete(f"/seats/{seat['id']}/lock", headers=headers).status_code == 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--asks", type=int, default=200)
    parser.add_argument("--batch-rows", type=int, help="best_available.BATCH_ROWS (rows of the first read)")
    parser.add_argument("--no-profile", action="store_true", help="skip cProfile")
    args = parser.parse_args()
    if args.batch_rows:
        best_available_service.BATCH_ROWS = args.batch_rows
    create_postgres_database(URL)
    migrate(URL)
    config = base_config(URL, MAX_SEATS_PER_USER=100, MAX_HOLDS_PER_ADDRESS=400_000, LOG_LEVEL="WARNING")
    app = create_app(config)
    events = {}
    with app.app_context():
        owner = User(email="owner@example.com", password_hash="-")
        buyer = User(email="buyer@example.com", password_hash="-")
        db.session.add_all([owner, buyer])
        db.session.commit()
        organization_id = organizations.create_organization(name="Profile", owner_id=owner.id).id
        for name, layout in (
            ("1,000 seats", small_layout()),
            ("20,000 seats", arena_layout()),
            ("100,000 seats", big_layout()),
        ):
            events[name] = make_event(owner.id, organization_id, name, layout)
        headers = {"Authorization": f"Bearer {create_access_token(identity=buyer, expires_delta=timedelta(hours=1))}"}
        engine = db.engine
    client = app.test_client()
    statements: list[str] = []

    def listener(_conn, _cursor, statement, *_rest):
        statements.append(" ".join(statement.split())[:90])

    for name, event_id in events.items():
        for count in (2, 3, 4, 2):  # warm up: the geometry cache, connections, compiled statements
            give_back(client, ask(client, event_id, headers, count), headers)
        statements.clear()
        event.listen(engine, "before_cursor_execute", listener)
        response = ask(client, event_id, headers, 3)
        event.remove(engine, "before_cursor_execute", listener)
        give_back(client, response, headers)
        print(f"{name}: {len(statements)} SQL statements per ask")
        for statement in statements:
            print(f"    {statement}")
        took, cpu = [], 0.0
        for index in range(args.asks):
            began, began_cpu = time.perf_counter(), time.process_time()
            response = ask(client, event_id, headers, 2 + index % 3)
            took.append(time.perf_counter() - began)
            cpu += time.process_time() - began_cpu
            give_back(client, response, headers)
        took.sort()
        print(
            f"{name}: one ask alone p50 {statistics.median(took) * 1000:.2f} ms, "
            f"p99 {took[int(len(took) * 0.99) - 1] * 1000:.2f} ms, "
            f"this process's CPU {cpu / args.asks * 1000:.2f} ms per ask ({args.asks} asks)"
        )
    if args.no_profile:
        return

    event_id = events["100,000 seats"]
    profile = cProfile.Profile()
    for index in range(args.asks):
        profile.enable()
        response = ask(client, event_id, headers, 2 + index % 3)
        profile.disable()
        give_back(client, response, headers)
    if os.environ.get("PROFILE_DUMP"):
        profile.dump_stats(os.environ["PROFILE_DUMP"])
    pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    pstats.Stats(profile).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
