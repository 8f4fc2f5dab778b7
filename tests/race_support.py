"""Helpers for race tests: many users with tokens, and firing requests at one instant."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests
from flask_jwt_extended import create_access_token
from sqlalchemy import select

from ticketing import create_app
from ticketing.extensions import db
from ticketing.models import Seat, Ticket, User
from ticketing.services.seeding import parse_rows, seed_event

from .databases import base_config

_serial = itertools.count()


class Backdoor:
    """Direct database access for a race test: set-up and the final audit, never the requests."""

    def __init__(self, database_url: str):
        self.app = create_app(base_config(database_url))

    def users(self, count: int) -> list[dict]:
        """`count` users with access tokens (stored directly: hashing passwords is not under test)."""
        with self.app.app_context():
            users = [User(email=f"racer{next(_serial)}@example.com", password_hash="-") for _ in range(count)]
            db.session.add_all(users)
            db.session.commit()
            return [
                {"id": user.id, "headers": {"Authorization": f"Bearer {create_access_token(identity=user)}"}}
                for user in users
            ]

    def event(self, rows: str = "A", per_row: int = 10, price_cents: int = 0) -> list[int]:
        """Seed an event; return its seat ids."""
        with self.app.app_context():
            seeded = seed_event(
                name="Race",
                rows=parse_rows(rows),
                per_row=per_row,
                price_cents=price_cents,
                currency="USD",
                starts_at=None,
            )
            return list(db.session.scalars(select(Seat.id).where(Seat.event_id == seeded.id).order_by(Seat.id)))

    def seat_statuses(self, seat_ids: list[int]) -> dict[int, str]:
        with self.app.app_context():
            rows = db.session.execute(select(Seat.id, Seat.status).where(Seat.id.in_(seat_ids)))
            return dict(rows.all())

    def tickets(self) -> list[tuple[int, str, int]]:
        """Every ticket as (seat_id, code, user_id)."""
        with self.app.app_context():
            return db.session.execute(select(Ticket.seat_id, Ticket.code, Ticket.user_id)).all()

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()


def at_once(calls: list[Callable[[requests.Session], requests.Response]]) -> list[requests.Response]:
    """Run every call in its own thread, all released by one barrier; return the responses in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        with requests.Session() as session:
            barrier.wait()
            return call(session)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
