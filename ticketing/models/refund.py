"""Refunds: recorded before the gateway is asked to give money back, so a refund happens once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigId, utcnow

# processing: recorded; the gateway is being asked (or was, and the answer is not written down yet).
# succeeded: the money went back; the tickets are void and their seats on sale again (one transaction).
# failed: the gateway refused; nothing changed. The same Idempotency-Key tries again.
REFUND_PROCESSING, REFUND_SUCCEEDED, REFUND_FAILED = "processing", "succeeded", "failed"
REFUND_STATUSES = (REFUND_PROCESSING, REFUND_SUCCEEDED, REFUND_FAILED)
# The key an event's cancellation gives the refund of each of its paid orders: a repeat finds it.
CANCELLATION_KEY = "event-cancelled"


class Refund(db.Model):
    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("order_id", "idempotency_key"),
        Index("ix_refunds_status_updated_at", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"), index=True)
    # Who asked (a manager, the buyer); None for the sweeper finishing an event's cancellation.
    requested_by: Mapped[int | None] = mapped_column(BigInteger)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    ticket_ids: Mapped[list] = mapped_column(JSON)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=REFUND_PROCESSING)
    charge_id: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def reference(self) -> str:
        """The gateway's idempotency key: every attempt of this refund gives the money back once."""
        return refund_reference(self.id)


def refund_reference(refund_id: int) -> str:
    return f"refund-{refund_id}"
