"""The seat ledger: one rule for "a hold is live", and every transition reaches the change feed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from tests.helpers import TEST_LIMITS
from ticketing.clock import ManualClock
from ticketing.database import write_transaction
from ticketing.extensions import db
from ticketing.models import (
    AVAILABLE,
    BOOKED,
    LOCKED,
    SEAT_STATUSES,
    Event,
    Seat,
    effective_status,
    effective_status_sql,
    status_filter,
    utcnow,
)
from ticketing.services import changes, expiry, orders, payments, seats
from ticketing.services.gateways import FakeGateway
from ticketing.services.row_locks import select_order_for_update, select_seats_for_update, select_user_for_update

_SEATS = Seat.__table__


def test_python_and_sql_agree_on_every_stored_state(app):
    """effective_status (Python) and its SQL forms give the same answer for every stored state."""
    now = utcnow().replace(microsecond=0)
    cases = [
        (status, locked_until)
        for status in SEAT_STATUSES
        for locked_until in (None, now - timedelta(seconds=1), now, now + timedelta(seconds=1))
    ]
    with app.app_context():
        with write_transaction() as session:
            event = Event(name="Cases", currency="USD")
            session.add(event)
            session.flush()
            rows = [
                {"event_id": event.id, "label": f"A{i}", "row": "A", "number": i, "status": s, "locked_until": until}
                for i, (s, until) in enumerate(cases, start=1)
            ]
            session.execute(insert(Seat), rows)
        stored = {row.number: row for row in db.session.execute(select(_SEATS).where(_SEATS.c.event_id == event.id))}
        in_sql = dict(
            db.session.execute(
                select(_SEATS.c.number, effective_status_sql(now)).where(_SEATS.c.event_id == event.id)
            ).all()
        )
        for number, (status, locked_until) in enumerate(cases, start=1):
            expected = effective_status(stored[number].status, stored[number].locked_until, now)
            assert in_sql[number] == expected, (status, locked_until)
        for wanted in SEAT_STATUSES:
            filtered = set(
                db.session.scalars(select(Seat.number).where(Seat.event_id == event.id, status_filter(wanted, now)))
            )
            assert filtered == {
                n for n, row in stored.items() if effective_status(row.status, row.locked_until, now) == wanted
            }
    # The case the old SQL got wrong: stored as locked with no end is available, in both forms.
    assert effective_status(LOCKED, None, now) == AVAILABLE


def test_row_locks_are_refused_outside_a_write_transaction(app, api):
    event = api.seed(rows="A", per_row=1)
    user = api.register()
    with app.app_context():
        for take in (
            lambda: select_seats_for_update(db.session, event["seat_ids"]),
            lambda: select_user_for_update(db.session, user["id"]),
            lambda: select_order_for_update(db.session, order_id=1, user_id=None),
        ):
            with pytest.raises(RuntimeError, match="write_transaction"):
                take()
        with write_transaction() as session:  # inside one, they work
            assert [seat.id for seat in select_seats_for_update(session, event["seat_ids"])] == event["seat_ids"]


@pytest.fixture
def settings():
    return {"CLOCK": ManualClock()}


def test_every_public_transition_reaches_the_change_feed(app, api):
    """Each service that changes a seat, called directly, shows up in the feed with the seat's new state."""
    free = api.seed(name="Free", rows="A", per_row=4)
    priced = api.seed(name="Priced", rows="A", per_row=6, price_cents=1000)
    user = api.register()
    clock = app.config["CLOCK"]
    gateway = FakeGateway()
    f1, f2, f3, f4 = free["seat_ids"]
    p1, p2, p3, p4, p5, p6 = priced["seat_ids"]

    def hold(seat_id):
        return seats.hold_seat(
            user_id=user["id"], seat_id=seat_id, clock=clock.now, hold_seconds=60, limits=TEST_LIMITS
        )

    def order(*seat_ids):
        return orders.create_order(
            user_id=user["id"], seat_ids=list(seat_ids), clock=clock.now, checkout_seconds=600, limits=TEST_LIMITS
        )

    def pay(order_view, token):
        try:
            payments.pay_order(
                user_id=user["id"],
                order_id=order_view.id,
                payment_token=token,
                idempotency_key=None,
                clock=clock.now,
                gateway=gateway,
            )
        except Exception:  # a decline answers with an error; the feed is what is checked here
            db.session.rollback()

    transitions = [
        ("lock_seat", free, lambda: hold(f1), {f1: LOCKED}),
        ("lock_seat (renew)", free, lambda: hold(f1), {f1: LOCKED}),
        (
            "release_seat",
            free,
            lambda: seats.release_hold(user_id=user["id"], seat_id=f1, clock=clock.now),
            {f1: AVAILABLE},
        ),
        (
            "confirm_seat",
            free,
            lambda: (hold(f2), seats.confirm_seat(user_id=user["id"], seat_id=f2, clock=clock.now)),
            {f2: BOOKED},
        ),
        ("create_order", priced, lambda: order(p1, p2), {p1: LOCKED, p2: LOCKED}),
        (
            "pay_order (paid)",
            priced,
            lambda: pay(orders.list_orders(user_id=user["id"], now=clock.now())[0], "tok_visa"),
            {p1: BOOKED, p2: BOOKED},
        ),
        ("pay_order (declined)", priced, lambda: pay(order(p3), "tok_chargeDeclined"), {p3: AVAILABLE}),
        (
            "cancel_order",
            priced,
            lambda: orders.cancel_order(user_id=user["id"], order_id=order(p4).id, clock=clock.now),
            {p4: AVAILABLE},
        ),
    ]
    with app.app_context():
        for name, event, transition, expected in transitions:
            cursor = changes.read_changes(event_id=event["id"], since=None, now=clock.now()).cursor
            transition()
            db.session.rollback()
            feed = changes.read_changes(event_id=event["id"], since=cursor, now=clock.now())
            assert {c.seat_id: c.status for c in feed.changes} == expected, name

        # Time passing: a hold and an order run out; expire_due writes them down, and the feed sees it.
        hold(f3)
        order(p5)
        cursor_free = changes.read_changes(event_id=free["id"], since=None, now=clock.now()).cursor
        cursor_priced = changes.read_changes(event_id=priced["id"], since=None, now=clock.now()).cursor
        clock.advance(601)
        assert expiry.expire_due(now=clock.now()) == expiry.Expired(orders=1, holds=1)
        seen_free = changes.read_changes(event_id=free["id"], since=cursor_free, now=clock.now())
        seen_priced = changes.read_changes(event_id=priced["id"], since=cursor_priced, now=clock.now())
        assert [(c.seat_id, c.status) for c in seen_free.changes] == [(f3, AVAILABLE)]
        assert [(c.seat_id, c.status) for c in seen_priced.changes] == [(p5, AVAILABLE)]
        untouched = {f4, p6}
        assert not untouched & {c.seat_id for c in seen_free.changes + seen_priced.changes}


def test_a_write_that_bypasses_the_ledger_would_not_be_seen(app, api):
    """The feed is built on the stamps the ledger writes: a raw UPDATE without one stays invisible.

    (This is why nothing but services.ledger may write seat state; see tests/unit/test_structure.py.)
    """
    event = api.seed(rows="A", per_row=1)
    with app.app_context():
        cursor = changes.read_changes(event_id=event["id"], since=None, now=utcnow()).cursor
        with write_transaction() as session:
            session.execute(update(Seat).where(Seat.id == event["seat_ids"][0]).values(status=BOOKED))
        assert changes.read_changes(event_id=event["id"], since=cursor, now=utcnow()).changes == []
