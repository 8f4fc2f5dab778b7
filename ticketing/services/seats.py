"""A customer's hold on one seat: take (or renew) it, confirm it into a ticket, give it up."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from .. import metrics
from ..database import write_transaction
from ..errors import (
    HoldLimitReachedError,
    LockExpiredError,
    PaymentRequiredError,
    SeatBlockedError,
    SeatBookedError,
    SeatInOrderError,
    SeatLockedError,
    SeatNotFoundError,
    SeatNotLockedError,
)
from ..models import AVAILABLE, BLOCKED, BOOKED, LOCKED, Ticket, effective_status, is_live_lock
from . import ledger
from .catalogue import SeatView, seat_view
from .ledger import HoldLimits
from .row_locks import select_seats_for_update, select_user_for_update
from .sales import require_on_sale

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Confirmation:
    seat: SeatView
    ticket: Ticket


def new_ticket_code() -> str:
    """An unguessable ticket code (128 random bits)."""
    return secrets.token_urlsafe(16)


def _one_seat(session, seat_id: int):
    seats = select_seats_for_update(session, [seat_id])
    if not seats:
        raise SeatNotFoundError()
    return seats[0]


def hold_seat(*, user_id: int, seat_id: int, clock: Clock, hold_seconds: int, limits: HoldLimits) -> SeatView:
    """Hold the seat for the user for `hold_seconds`; the holder locking again renews it.

    The hot path: the user's row, then the seat's row are locked; "now" is read only then, so a hold
    decided here never overlaps one decided by a transaction that committed before; the event must
    sell at that moment (a draft of another organization's is as absent as a missing seat); one UPDATE
    writes the hold and, for a new hold, checks the limits in the same statement. The per-user count is exact
    (the user's row is locked); the per-address count is read without a lock of its own, so requests
    from one address at the same instant may pass it by at most the number of them in flight (a lock
    per address would make every user behind one NAT queue on it).
    """
    with write_transaction() as session:
        select_user_for_update(session, user_id)
        seat = _one_seat(session, seat_id)
        now = clock()
        require_on_sale(session, event_id=seat.event_id, user_id=user_id, now=now, hidden=SeatNotFoundError())
        state = effective_status(seat.status, seat.locked_until, now)
        if state == BOOKED:
            raise SeatBookedError()
        if state == BLOCKED:
            raise SeatBlockedError()
        renewing = state == LOCKED
        if renewing and seat.holder_id != user_id:
            raise SeatLockedError()
        if renewing and seat.order_id is not None:
            raise SeatInOrderError()
        until = now + timedelta(seconds=hold_seconds)
        if not ledger.hold(session, seat, user_id=user_id, until=until, now=now, limits=limits, renewing=renewing):
            raise _limit_reached(session, seat, user_id=user_id, now=now, limits=limits)
    metrics.record_seat_lock(renewed=renewing)
    return replace(seat_view(seat, now), status=LOCKED, holder_id=user_id, locked_until=until, order_id=None)


def _limit_reached(session, seat, *, user_id: int, now: datetime, limits: HoldLimits) -> HoldLimitReachedError:
    """The error for a hold that a limit refused, saying which limit."""
    if ledger.count_live_holds(session, user_id=user_id, event_id=seat.event_id, now=now) >= limits.per_user:
        return HoldLimitReachedError(f"You already hold the most seats allowed for this event ({limits.per_user}).")
    return HoldLimitReachedError(
        f"Your network address already holds the most seats allowed for this event ({limits.per_address})."
    )


def confirm_seat(*, user_id: int, seat_id: int, clock: Clock) -> Confirmation:
    """Book a free seat that the user holds a live lock on, and issue its ticket."""
    try:
        with write_transaction() as session:
            seat = _one_seat(session, seat_id)
            now = clock()
            if seat.status == BOOKED:
                raise SeatBookedError()
            if seat.status != LOCKED or seat.holder_id != user_id:
                raise SeatNotLockedError()
            if not is_live_lock(seat.status, seat.locked_until, now):
                raise LockExpiredError()
            if seat.order_id is not None:
                raise SeatInOrderError()
            if seat.price_cents > 0:
                raise PaymentRequiredError()
            ledger.book(session, [seat])
            ticket = Ticket(code=new_ticket_code(), seat_id=seat.id, user_id=user_id)
            session.add(ticket)
    except IntegrityError:
        # The unique ticket per seat: reached only if the row locks above were wrong.
        raise SeatBookedError() from None
    return Confirmation(seat=replace(seat_view(seat, now), status=BOOKED, locked_until=None), ticket=ticket)


def release_hold(*, user_id: int, seat_id: int, clock: Clock) -> SeatView:
    """Give up the user's live hold on the seat."""
    with write_transaction() as session:
        seat = _one_seat(session, seat_id)
        now = clock()
        if not (is_live_lock(seat.status, seat.locked_until, now) and seat.holder_id == user_id):
            raise SeatNotLockedError()
        if seat.order_id is not None:
            raise SeatInOrderError()
        ledger.release(session, [seat])
    return replace(seat_view(seat, now), status=AVAILABLE, holder_id=None, locked_until=None, order_id=None)
