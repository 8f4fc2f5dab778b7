"""Tidying up holds, orders and payments whose time has passed (correctness never waits for this)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from ..database import write_transaction
from ..models import AVAILABLE, LOCKED, RevokedToken, Seat
from .versions import seats_changed


def expire_holds(*, now: datetime, batch_size: int = 1000, event_id: int | None = None) -> int:
    """Write `available` on seats whose plain lock ran out before `now` (of one event, or all); return how many.

    Seats held by an order are left to `expire_orders`, which knows whether a payment is in flight.

    Works in batches, skipping rows another transaction has locked, so it never waits on
    (or deadlocks with) a customer's request.
    """
    released = 0
    ran_out = select(Seat.id, Seat.event_id).where(Seat.status == LOCKED, Seat.locked_until <= now)
    if event_id is not None:
        ran_out = ran_out.where(Seat.event_id == event_id)
    ran_out = ran_out.where(Seat.order_id.is_(None)).order_by(Seat.id).limit(batch_size)
    while True:
        with write_transaction() as session:
            found = session.execute(ran_out.with_for_update(skip_locked=True)).all()
            ids = [seat_id for seat_id, _ in found]
            if ids:
                session.execute(
                    update(Seat)
                    .where(Seat.id.in_(ids), Seat.status == LOCKED, Seat.locked_until <= now, Seat.order_id.is_(None))
                    .values(status=AVAILABLE, holder_id=None, locked_until=None, order_id=None)
                )
                seats_changed(session, [(event, seat_id) for seat_id, event in found])
        released += len(ids)
        if len(ids) < batch_size:
            break
    return released


def forget_revoked_tokens(*, now: datetime) -> None:
    """Delete the records of revoked tokens that have expired anyway."""
    with write_transaction() as session:
        session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
