"""A customer's hold on one seat: take (or renew) it, confirm it into a ticket, give it up."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
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
from ..extensions import db
from ..models import AVAILABLE, BLOCKED, BOOKED, LOCKED, Event, Seat, Ticket, effective_status, is_live_lock
from . import ledger
from .auth import refuse_token
from .catalogue import SeatView, seat_view
from .ledger import HoldLimits
from .row_locks import select_seats_for_update, select_user_for_update
from .sales import require_on_sale_row, require_visible

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


_SEATS, _EVENTS = Seat.__table__, Event.__table__
# The lock's snapshot read: the seat (every column) and what decides whether its event sells.
_SEAT_AND_SALES = (
    select(
        _SEATS,
        _EVENTS.c.status.label("event_status"),
        _EVENTS.c.organization_id,
        _EVENTS.c.sales_start,
        _EVENTS.c.sales_end,
        _EVENTS.c.starts_at,
    )
    .join(_EVENTS, _EVENTS.c.id == _SEATS.c.event_id)
    .where(_SEATS.c.id == bindparam("seat_id"))
)


@dataclass(frozen=True)
class _Sales:
    """The event's columns that `require_on_sale_row` reads."""

    status: str
    organization_id: int | None
    sales_start: datetime | None
    sales_end: datetime | None
    starts_at: datetime | None


def _decide_hold(session, seat, event, *, user_id: int, now: datetime) -> bool:
    """Whether the user may hold the seat at `now`, as `seat` and `event` show it: True for a renewal
    of their own hold, False for a new hold; an error for every refusal."""
    require_on_sale_row(session, event, user_id=user_id, now=now, hidden=SeatNotFoundError())
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
    return renewing


def _sales_of(row) -> _Sales:
    return _Sales(row.event_status, row.organization_id, row.sales_start, row.sales_end, row.starts_at)


def hold_seat(
    *,
    user_id: int,
    seat_id: int,
    clock: Clock,
    hold_seconds: int,
    limits: HoldLimits,
    token_ids: Sequence[str] = (),
    lock_timeout_ms: int | None = None,
) -> SeatView:
    """Hold the seat for the user for `hold_seconds`; the holder locking again renews it.

    On PostgreSQL the whole lock is one statement in autocommit, the function `hold_seat()` (migration
    0011), which also checks the token's user and whether `token_ids` (the token's id, its login's)
    were revoked: the route skips the separate token lookup (security.checks_token_itself). It
    answers a write or a snapshot; a refusal is decided here from the snapshot, as on SQLite, and a
    seat that changed under it is decided again in a write transaction. SQLite runs that Python path
    from the start (its token was checked by the lookup).
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return _hold_seat_in_transaction(
            user_id=user_id, seat_id=seat_id, clock=clock, hold_seconds=hold_seconds, limits=limits
        )
    now = clock()
    until = now + timedelta(seconds=hold_seconds)
    row = ledger.hold_in_one_statement(
        db.session(),
        seat_id=seat_id,
        user_id=user_id,
        token_ids=list(token_ids),
        now=now,
        until=until,
        limits=limits,
        lock_timeout_ms=lock_timeout_ms,
    )
    refuse_token(account=row.outcome != "no_account", revoked=row.outcome == "revoked")
    if row.outcome == "no_seat":
        raise SeatNotFoundError()
    if row.outcome in ("held", "renewed"):
        metrics.record_seat_lock(renewed=row.outcome == "renewed")
        return seat_view(row, now)
    if row.outcome == "look":
        _decide_hold(db.session, row, _sales_of(row), user_id=user_id, now=now)  # raises the refusal
    # The seat looked writable to Python but not to the function (a clock edge), or it changed
    # between the function's read and its UPDATE, or a limit: decide again under row locks.
    return _hold_seat_in_transaction(
        user_id=user_id, seat_id=seat_id, clock=clock, hold_seconds=hold_seconds, limits=limits
    )


def _hold_seat_in_transaction(
    *, user_id: int, seat_id: int, clock: Clock, hold_seconds: int, limits: HoldLimits
) -> SeatView:
    """`hold_seat` in Python, SQLite's path (and PostgreSQL's when the seat changed under `hold_seat()`):
    three statements: one snapshot read of the seat and its event, without any row
    lock, answers every refusal (no such seat, a draft of another organization, not on sale, booked,
    blocked, held by someone else, in an order): each was true at a moment during the request. A seat
    that looked free (or the user's own) is then written under the user's row lock, taken only now,
    by one UPDATE that re-checks the seat's state at "now" (read after that lock) and, for a new
    hold, the limits (ledger.hold). The per-user count is exact: the UPDATE's snapshot is taken after
    the user's row lock, so it sees every hold of the user's earlier transactions. If the seat changed
    since the snapshot (or a limit stopped the hold), the seat's row is locked and the decision made
    again on it, which also says which refusal applies. The per-address count is read without a lock
    of its own, so requests from one address at the same instant may pass it by at most the number
    of them in flight (a lock per address would make every user behind one NAT queue on it).
    """
    snapshot = db.session.connection().execute(_SEAT_AND_SALES, {"seat_id": seat_id}).first()
    if snapshot is None:
        raise SeatNotFoundError()
    _decide_hold(db.session, snapshot, _sales_of(snapshot), user_id=user_id, now=clock())
    with write_transaction() as session:
        select_user_for_update(session, user_id)
        now = clock()
        seat = snapshot
        # Only time has passed for the snapshot: the user's own hold may have run out (a new hold now),
        # or the sales window closed (refused).
        renewing = _decide_hold(session, seat, _sales_of(seat), user_id=user_id, now=now)
        until = now + timedelta(seconds=hold_seconds)
        if not ledger.hold(session, seat, user_id=user_id, until=until, now=now, limits=limits, renewing=renewing):
            # Someone wrote the seat since the snapshot, or a limit: decide again on the locked row.
            seat = _one_seat(session, seat_id)
            event = require_visible(session, event_id=seat.event_id, user_id=user_id, hidden=SeatNotFoundError())
            renewing = _decide_hold(session, seat, event, user_id=user_id, now=now)
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
