"""Orders: seats taken for one user until paid, cancelled or expired."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigId, utcnow

PENDING_PAYMENT, PAID, PAYMENT_FAILED, CANCELLED, EXPIRED = (
    "pending_payment",
    "paid",
    "payment_failed",
    "cancelled",
    "expired",
)
# Some of a paid order's tickets refunded (void), or all of them.
PARTIALLY_REFUNDED, REFUNDED = "partially_refunded", "refunded"
ORDER_STATUSES = (PENDING_PAYMENT, PAID, PAYMENT_FAILED, CANCELLED, EXPIRED, PARTIALLY_REFUNDED, REFUNDED)
# The orders that were paid (money came in): what refunds and revenue look at.
PAID_STATUSES = (PAID, PARTIALLY_REFUNDED, REFUNDED)


class Order(db.Model):
    """An order holds its seats (`seats.order_id`) until `expires_at` while it waits for payment."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_user_id_id", "user_id", "id"),
        Index("ix_orders_event_id_id", "event_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default=PENDING_PAYMENT)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Money given back so far (refunds that succeeded); total_cents - refunded_cents is kept.
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    def status_at(self, now: datetime, *, payment_in_flight: bool = False) -> str:
        """The order's state at `now`: a pending order past its time reads as expired."""
        return order_status(self.status, self.expires_at, now, payment_in_flight=payment_in_flight)


def order_status(status: str, expires_at: datetime, now: datetime, *, payment_in_flight: bool = False) -> str:
    """Return an order's state at `now` from its stored status and deadline.

    A pending order past its time reads as expired, unless a payment of it is still unsettled: that
    payment may yet book it, so until it settles the order stays pending.
    """
    if status == PENDING_PAYMENT and expires_at <= now and not payment_in_flight:
        return EXPIRED
    return status


class OrderSeat(db.Model):
    """Which seats an order is for (kept after the order ends, unlike `seats.order_id`)."""

    __tablename__ = "order_seats"

    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    seat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("seats.id", ondelete="CASCADE"), primary_key=True, index=True
    )
