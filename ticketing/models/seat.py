"""Seats, their holds, and the pure rules that say what state a seat is in at a moment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, and_, or_, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigId

AVAILABLE, LOCKED, BOOKED = "available", "locked", "booked"
SEAT_STATUSES = (AVAILABLE, LOCKED, BOOKED)


class Seat(db.Model):
    """A seat. `status` is what was last written; `effective_status` is what it is now.

    A hold is `status == "locked"` with `holder_id` and `locked_until`; once `locked_until`
    has passed, the seat is available again without anything being written.
    """

    __tablename__ = "seats"
    __table_args__ = (
        UniqueConstraint("event_id", "label"),
        Index("ix_seats_event_id_id", "event_id", "id"),
        Index("ix_seats_holder_id_event_id", "holder_id", "event_id"),
        # Only the locked seats: finds locks that have run out (map versions, the sweeper) cheaply.
        Index(
            "ix_seats_event_id_locked_until_locked",
            "event_id",
            "locked_until",
            postgresql_where=text("status = 'locked'"),
            sqlite_where=text("status = 'locked'"),
        ),
        # The change feed: an event's seats changed after a cursor.
        Index("ix_seats_event_id_changed_in", "event_id", "changed_in"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(20))
    row: Mapped[str] = mapped_column(String(10))
    number: Mapped[int] = mapped_column(Integer)
    price_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default=AVAILABLE)
    holder_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    # The pending order holding the seat (its `locked_until` is the order's deadline).
    order_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("orders.id", ondelete="SET NULL"))
    # The event version (services.versions) of the transaction that last changed the seat; 0: never.
    changed_in: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    def status_at(self, now: datetime) -> str:
        """The seat's state at `now` (an expired lock reads as available)."""
        return effective_status(self.status, self.locked_until, now)

    def is_held_by(self, user_id: int, now: datetime) -> bool:
        """True when `user_id` holds a live lock on this seat at `now`."""
        return self.status_at(now) == LOCKED and self.holder_id == user_id

    def take(self, *, user_id: int, until: datetime, order_id: int | None = None) -> None:
        """Hold the seat for the user (and order) until `until`."""
        self.status, self.holder_id, self.locked_until, self.order_id = LOCKED, user_id, until, order_id

    def free(self) -> None:
        """Make the seat available again."""
        self.status, self.holder_id, self.locked_until, self.order_id = AVAILABLE, None, None, None

    def book(self) -> None:
        """Mark the seat sold (the holder stays on record as the buyer)."""
        self.status, self.locked_until = BOOKED, None


def effective_status(status: str, locked_until: datetime | None, now: datetime) -> str:
    """Return the state of a seat at `now` from its stored `status` and `locked_until`."""
    if status == LOCKED and (locked_until is None or locked_until <= now):
        return AVAILABLE
    return status


def status_filter(status: str, now: datetime):
    """A SQL condition selecting the seats whose state at `now` is `status`."""
    if status == BOOKED:
        return Seat.status == BOOKED
    live_lock = and_(Seat.status == LOCKED, Seat.locked_until > now)
    if status == LOCKED:
        return live_lock
    return or_(Seat.status == AVAILABLE, and_(Seat.status == LOCKED, Seat.locked_until <= now))


def format_price(cents: int) -> str:
    """Money as a decimal string with two places: 2500 -> "25.00"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"
