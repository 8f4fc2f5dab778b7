"""Locking, confirming and releasing one seat."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import metrics
from ..database import write_transaction
from ..errors import (
    HoldLimitReachedError,
    LockExpiredError,
    PaymentRequiredError,
    SeatBookedError,
    SeatInOrderError,
    SeatLockedError,
    SeatNotFoundError,
    SeatNotLockedError,
)
from ..models import BOOKED, LOCKED, Seat, Ticket, effective_status
from .catalogue import SeatView, seat_view
from .locking import live_holds, lock_seats, lock_user
from .versions import seats_changed

_SEATS = Seat.__table__


@dataclass(frozen=True)
class Confirmation:
    seat: Seat
    ticket: Ticket


def new_ticket_code() -> str:
    """An unguessable ticket code (128 random bits)."""
    return secrets.token_urlsafe(16)


def _one_seat(session, seat_id: int) -> Seat:
    seats = lock_seats(session, [seat_id])
    if not seats:
        raise SeatNotFoundError()
    return seats[0]


def lock_seat(*, user_id: int, seat_id: int, now: datetime, hold_seconds: int, max_seats_per_user: int) -> SeatView:
    """Hold the seat for the user until `now + hold_seconds`; the holder locking again renews it.

    The hot path: the user's row, then the seat's row, are locked; one UPDATE writes the hold and,
    for a new hold, checks the per-user limit in the same statement. Core statements, no ORM objects.
    """
    with write_transaction() as session:
        lock_user(session, user_id)
        connection = session.connection()  # Core on the session's connection: no ORM work per statement
        seat = connection.execute(select(_SEATS).where(_SEATS.c.id == seat_id).with_for_update()).first()
        if seat is None:
            raise SeatNotFoundError()
        state = effective_status(seat.status, seat.locked_until, now)
        if state == BOOKED:
            raise SeatBookedError()
        renewing = state == LOCKED
        if renewing and seat.holder_id != user_id:
            raise SeatLockedError()
        if renewing and seat.order_id is not None:
            raise SeatInOrderError()
        until = now + timedelta(seconds=hold_seconds)
        change = (
            update(_SEATS)
            .where(_SEATS.c.id == seat_id)
            .values(status=LOCKED, holder_id=user_id, locked_until=until, order_id=None)
        )
        if not renewing:
            change = change.where(live_holds(user_id=user_id, event_id=seat.event_id, now=now) < max_seats_per_user)
        if connection.execute(change).rowcount == 0:
            raise HoldLimitReachedError(
                f"You already hold the most seats allowed for this event ({max_seats_per_user})."
            )
        seats_changed(session, [(seat.event_id, seat.id)])
    metrics.record_seat_lock(renewed=renewing)
    return replace(seat_view(seat, now), status=LOCKED, holder_id=user_id, locked_until=until)


def confirm_seat(*, user_id: int, seat_id: int, now: datetime) -> Confirmation:
    """Book a free seat that the user holds a live lock on, and issue its ticket."""
    try:
        with write_transaction() as session:
            seat = _one_seat(session, seat_id)
            if seat.status == BOOKED:
                raise SeatBookedError()
            if seat.status != LOCKED or seat.holder_id != user_id:
                raise SeatNotLockedError()
            if seat.status_at(now) != LOCKED:
                raise LockExpiredError()
            if seat.order_id is not None:
                raise SeatInOrderError()
            if seat.price_cents > 0:
                raise PaymentRequiredError()
            seat.book()
            ticket = Ticket(code=new_ticket_code(), seat_id=seat.id, user_id=user_id)
            session.add(ticket)
            seats_changed(session, [(seat.event_id, seat.id)])
    except IntegrityError:
        # The unique ticket per seat: reached only if the locking above were wrong.
        raise SeatBookedError() from None
    return Confirmation(seat=seat, ticket=ticket)


def release_seat(*, user_id: int, seat_id: int, now: datetime) -> Seat:
    """Give up the user's live lock on the seat."""
    with write_transaction() as session:
        seat = _one_seat(session, seat_id)
        if not seat.is_held_by(user_id, now):
            raise SeatNotLockedError()
        if seat.order_id is not None:
            raise SeatInOrderError()
        seat.free()
        seats_changed(session, [(seat.event_id, seat.id)])
    return seat
