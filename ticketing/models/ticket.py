"""Tickets: proof that a seat was sold to a user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigId, utcnow

# What a ticket says at the door: `valid` admits; `void` (refunded, event cancelled) does not.
VALID, VOID = "valid", "void"
TICKET_STATUSES = (VALID, VOID)


class Ticket(db.Model):
    """One live ticket per seat: the unique `seat_id` makes a double booking impossible."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    seat_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("seats.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # valid or void (a refund, a cancelled event): a void ticket admits nobody.
    status: Mapped[str] = mapped_column(String(10), default=VALID, server_default=VALID)
