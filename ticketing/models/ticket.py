"""Tickets: proof that a seat was sold to a user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigId, utcnow

# What a ticket says at the door: `valid` admits; `void` (refunded, event cancelled) does not.
VALID, VOID = "valid", "void"
TICKET_STATUSES = (VALID, VOID)


class Ticket(db.Model):
    """One valid ticket per seat: the partial unique index on `seat_id` makes a double booking
    impossible, while a refunded (void) ticket stays on record beside the seat's next sale."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_seat_id", "seat_id"),  # every ticket of a seat, void ones too
        Index(
            "uq_tickets_valid_seat_id",
            "seat_id",
            unique=True,
            postgresql_where=text("status = 'valid'"),
            sqlite_where=text("status = 'valid'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    seat_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("seats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # valid or void (a refund, a cancelled event): a void ticket admits nobody.
    status: Mapped[str] = mapped_column(String(10), default=VALID, server_default=VALID)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The refund that voided it (None for a valid ticket, and for one voided with its event's cancellation
    # without money: a free seat).
    refund_id: Mapped[int | None] = mapped_column(BigInteger)
