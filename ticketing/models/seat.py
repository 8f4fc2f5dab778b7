"""Seats, their holds, and the pure rules that say what state a seat is in at a moment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    case,
    false,
    literal_column,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigId

AVAILABLE, LOCKED, BOOKED, BLOCKED = "available", "locked", "booked", "blocked"
# `blocked`: the organizer took the seat off sale (nobody holds it; only an unblock frees it).
SEAT_STATUSES = (AVAILABLE, LOCKED, BOOKED, BLOCKED)
# A literal, so that the partial index on locked seats also serves prepared statements.
_LOCKED_LITERAL = literal_column(f"'{LOCKED}'")


class Seat(db.Model):
    """A seat. `status` is what was last written; `effective_status` is what it is now.

    A hold is `status == "locked"` with `holder_id` and `locked_until`; once `locked_until`
    has passed, the seat is available again without anything being written. Only the seat ledger
    (services.ledger) writes these columns.
    """

    __tablename__ = "seats"
    __table_args__ = (
        UniqueConstraint("event_id", "label"),
        Index("ix_seats_event_id_id", "event_id", "id"),
        Index("ix_seats_holder_id_event_id", "holder_id", "event_id"),
        Index("ix_seats_held_from_event_id", "held_from", "event_id"),
        # Only the locked seats: finds locks that have run out (map versions, the sweeper) cheaply.
        Index(
            "ix_seats_event_id_locked_until_locked",
            "event_id",
            "locked_until",
            postgresql_where=text("status = 'locked'"),
            sqlite_where=text("status = 'locked'"),
        ),
        # A row's seats (best available's nearest rows, the orphan rule of orders around given numbers).
        Index("ix_seats_event_id_section_row_number", "event_id", "section", "row", "number"),
        # The change feed: an event's seats changed after a cursor.
        Index("ix_seats_event_id_changed_in", "event_id", "changed_in"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(80))
    row: Mapped[str] = mapped_column(String(10))
    number: Mapped[int] = mapped_column(Integer)
    # From the venue's layout (services.layouts); "" / None / False / None for seats made by seed-seats.
    section: Mapped[str] = mapped_column(String(40), default="", server_default="")
    category: Mapped[str | None] = mapped_column(String(40))
    accessible: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    x: Mapped[float | None] = mapped_column(Float)
    y: Mapped[float | None] = mapped_column(Float)
    price_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default=AVAILABLE)
    holder_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    # The client address the hold came from (holds per address, MAX_HOLDS_PER_ADDRESS).
    held_from: Mapped[str | None] = mapped_column(String(64))
    # The pending order holding the seat (its `locked_until` is the order's deadline).
    order_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("orders.id", ondelete="SET NULL"))
    # The change stamp of the transaction that last changed the seat (database.change_stamp); 0: never.
    changed_in: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    def status_at(self, now: datetime) -> str:
        """The seat's state at `now` (a lock that has run out reads as available)."""
        return effective_status(self.status, self.locked_until, now)


# The one definition of "a hold is still live", in Python and in SQL. A seat stored as locked whose
# `locked_until` has passed, or is missing, is available: no clean-up has to run first.


def effective_status(status: str, locked_until: datetime | None, now: datetime) -> str:
    """Return the state of a seat at `now` from its stored `status` and `locked_until`."""
    if status == LOCKED and not is_live_lock(status, locked_until, now):
        return AVAILABLE
    return status


def is_live_lock(status: str, locked_until: datetime | None, now: datetime) -> bool:
    """True when the stored state is a hold that still runs at `now`."""
    return status == LOCKED and locked_until is not None and locked_until > now


def is_taken(state: str, order_id: int | None) -> bool:
    """True while the seat is in a live checkout or sold (seed 004's flag); a plain hold is not taken.

    `state` is the seat's state at the moment asked (`effective_status`): a checkout whose time ran
    out reads as available there, so it is not taken either.
    """
    return state == BOOKED or (state == LOCKED and order_id is not None)


def live_lock(now: datetime, seats=None) -> ColumnElement[bool]:
    """SQL: the seat is held at `now` (`is_live_lock`); never NULL, so it may be negated safely."""
    columns = (seats if seats is not None else Seat.__table__).c
    return and_(columns.status == _LOCKED_LITERAL, columns.locked_until.is_not(None), columns.locked_until > now)


def run_out_lock(now: datetime, seats=None) -> ColumnElement[bool]:
    """SQL: the seat is stored as locked but its hold is over at `now` (what clean-up writes down)."""
    columns = (seats if seats is not None else Seat.__table__).c
    return and_(columns.status == _LOCKED_LITERAL, or_(columns.locked_until.is_(None), columns.locked_until <= now))


def effective_status_sql(now: datetime, seats=None) -> ColumnElement[str]:
    """SQL: `effective_status` of each row at `now`."""
    columns = (seats if seats is not None else Seat.__table__).c
    return case((run_out_lock(now, seats), AVAILABLE), else_=columns.status)


def status_filter(status: str, now: datetime) -> ColumnElement[bool]:
    """SQL: the seats whose state at `now` is `status`."""
    if status == LOCKED:
        return live_lock(now)
    if status == AVAILABLE:
        return or_(Seat.status == AVAILABLE, run_out_lock(now))
    return Seat.status == status


def format_price(cents: int) -> str:
    """Money as a decimal string with two places: 2500 -> "25.00"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"
