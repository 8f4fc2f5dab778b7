"""Writing down what time has ended: holds and orders past their time, old revoked tokens.

Correctness never waits for this: every read and write already treats a hold or an order whose time
has passed as gone. It keeps the stored state tidy, and it is how a hold that simply runs out reaches
the change feed. One order of steps for every caller (the sweeper, a feed read, the feed watcher):
orders first (they know whether a payment is in flight), then plain holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, select

from ..database import write_transaction
from ..extensions import db
from ..models import RevokedToken, Seat, run_out_lock
from . import ledger
from .orders import expire_orders

_SEATS = Seat.__table__


@dataclass(frozen=True)
class Expired:
    orders: int
    holds: int


def has_run_out_holds(*, now: datetime, event_id: int | None = None) -> bool:
    """True when some seat (of the event) is stored as held though its time passed (one indexed look)."""
    query = select(_SEATS.c.id).where(run_out_lock(now))
    if event_id is not None:
        query = query.where(_SEATS.c.event_id == event_id)
    return bool(db.session.scalar(select(exists(query))))


def expire_due(*, now: datetime, event_id: int | None = None) -> Expired:
    """Expire orders and release plain holds whose time passed before `now`, of one event or all.

    Every release re-checks its rows under their row locks, so several callers doing this at once
    free each seat once.
    """
    orders = expire_orders(now=now, event_id=event_id)
    return Expired(orders=orders, holds=release_run_out_holds(now=now, event_id=event_id))


def expire_seats_due(*, now: datetime, event_id: int) -> Expired:
    """`expire_due` for an event's seats, at the cost of one indexed look when none is due (the feed's
    case: an order past its time whose seats went to others already reads expired, and is the
    sweeper's to write down)."""
    if not has_run_out_holds(now=now, event_id=event_id):
        return Expired(orders=0, holds=0)
    return expire_due(now=now, event_id=event_id)


def release_run_out_holds(*, now: datetime, event_id: int | None = None, batch_size: int = 1000) -> int:
    """Write `available` on seats whose plain hold ran out before `now`; return how many.

    Seats held by an order are left to `expire_orders`, which knows whether a payment is in flight.
    """
    released = 0
    while True:
        with write_transaction() as session:
            batch = ledger.release_run_out_holds(session, now=now, event_id=event_id, limit=batch_size)
        released += batch
        if batch < batch_size:
            return released


def forget_revoked_tokens(*, now: datetime) -> None:
    """Delete the records of revoked tokens that have expired anyway."""
    with write_transaction() as session:
        session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
