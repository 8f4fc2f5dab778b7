"""PostgreSQL's one-statement lock (`hold_seat()`, migration 0011) decides as the Python rules do.

The function repeats in SQL what `services.seats` decides in Python (the event sells at `now`; the
seat is free at `now`, or the caller's own plain hold). These tests put a seat and its event in
every state that matters and check, for each, that the function writes exactly when the Python rule
would hold the seat (a new hold, or a renewal), and answers a snapshot to refuse otherwise.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from ticketing.errors import TicketingError
from ticketing.extensions import db
from ticketing.models import Order, User, utcnow
from ticketing.services import ledger
from ticketing.services.ledger import HoldLimits
from ticketing.services.seats import _decide_hold, _sales_of

LIMITS = HoldLimits(per_user=1000, per_address=1000, address=None)


@pytest.fixture
def postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("hold_seat() is PostgreSQL's; SQLite runs the Python rules themselves")


def _python_decision(row, *, user_id, now) -> str:
    try:
        renewing = _decide_hold(db.session, row, _sales_of(row), user_id=user_id, now=now)
    except TicketingError:
        return "look"
    return "renewed" if renewing else "held"


def _set(statement: str, **values) -> None:
    db.session.execute(text(statement), values)
    db.session.commit()


def test_the_function_writes_exactly_when_python_would_hold(app, api, postgres_only):
    me, other = api.user(), api.user()
    event = api.seed(rows="A", per_row=1)
    seat_id = event["seat_ids"][0]
    now = utcnow().replace(microsecond=0)
    past, future = now - timedelta(hours=1), now + timedelta(hours=1)
    with app.app_context():
        order = Order(
            user_id=other["id"], event_id=event["id"], total_cents=0, currency="USD", expires_at=future, created_at=now
        )
        db.session.add(order)
        db.session.commit()
        seat_states = list(
            itertools.product(
                ("available", "locked", "booked", "blocked"),
                (None, past, future),  # locked_until
                (None, me["id"], other["id"]),  # holder
                (None, order.id),  # order
            )
        )
        event_states = list(
            itertools.product(
                ("on_sale", "draft", "closed"),
                (None, past, future),  # sales_start
                (None, past, future),  # sales_end
                (None, past, future),  # starts_at
            )
        )
        on_sale = ("on_sale", None, None, None)
        free, mine = ("available", None, None, None), ("locked", future, me["id"], None)
        cases = [(seat, on_sale) for seat in seat_states] + [(s, e) for e in event_states for s in (free, mine)]
        outcomes = set()
        for (status, until, holder, order_id), (event_status, start, end, starts_at) in cases:
            _set(
                "UPDATE seats SET status = :status, locked_until = :until, holder_id = :holder, order_id = :order_id"
                " WHERE id = :id",
                status=status,
                until=until,
                holder=holder,
                order_id=order_id,
                id=seat_id,
            )
            _set(
                "UPDATE events SET status = :status, sales_start = :start, sales_end = :end, starts_at = :starts_at"
                " WHERE id = :id",
                status=event_status,
                start=start,
                end=end,
                starts_at=starts_at,
                id=event["id"],
            )
            row = ledger.hold_in_one_statement(
                db.session(),
                seat_id=seat_id,
                user_id=me["id"],
                token_ids=["not-revoked"],
                now=now,
                until=now + timedelta(minutes=5),
                limits=LIMITS,
                lock_timeout_ms=None,
            )
            case = f"seat {status}/{until}/{holder}/{order_id}, event {event_status}/{start}/{end}/{starts_at}"
            if row.outcome == "look":
                expected = _python_decision(row, user_id=me["id"], now=now)
            else:
                # A write: the seat as it was before it must be one Python would have held.
                before = SimpleNamespace(
                    **{
                        **row._mapping,
                        "status": status,
                        "locked_until": until,
                        "holder_id": holder,
                        "order_id": order_id,
                    }
                )
                expected = _python_decision(before, user_id=me["id"], now=now)
                assert row.status == "locked" and row.holder_id == me["id"] and row.order_id is None, case
            assert row.outcome == expected, case
            outcomes.add(row.outcome)
        assert outcomes == {"look", "held", "renewed"}


def test_the_function_refuses_a_revoked_token_and_a_deleted_account(app, api, postgres_only):
    me = api.user()
    seat_id = api.seed(rows="A", per_row=1)["seat_ids"][0]
    now = utcnow()
    with app.app_context():
        _set("INSERT INTO revoked_tokens (jti, expires_at) VALUES ('gone', :at)", at=now + timedelta(hours=1))

        def outcome(user_id: int, token_ids: list[str]) -> str:
            return ledger.hold_in_one_statement(
                db.session(),
                seat_id=seat_id,
                user_id=user_id,
                token_ids=token_ids,
                now=now,
                until=now + timedelta(minutes=1),
                limits=LIMITS,
                lock_timeout_ms=None,
            ).outcome

        assert outcome(me["id"], ["fine", "gone"]) == "revoked"
        assert db.session.execute(text("SELECT status FROM seats WHERE id = :id"), {"id": seat_id}).scalar() == (
            "available"
        )
        assert outcome(me["id"] + 1000, ["fine"]) == "no_account"
        assert outcome(me["id"], ["fine"]) == "held"
        assert db.session.get(User, me["id"]) is not None
