"""Payment attempts: recorded before the gateway is called, so no charge is ever lost."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigId, utcnow

# processing: recorded, gateway called or about to be; its outcome is not known yet.
# succeeded / declined: final, and what a replay with the same Idempotency-Key answers.
# failed: the gateway refused to process it (nothing charged); the order may be paid again.
# refund_pending / refunded: charged, but the seats were gone by then, so the money goes back.
# abandoned: the process died before the gateway saw the charge (found by reconciliation).
PROCESSING, SUCCEEDED, DECLINED, FAILED = "processing", "succeeded", "declined", "failed"
REFUND_PENDING, REFUNDED, ABANDONED = "refund_pending", "refunded", "abandoned"


class Payment(db.Model):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("order_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("orders.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    provider: Mapped[str] = mapped_column(String(20))
    token: Mapped[str | None] = mapped_column(String(255))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=PROCESSING, index=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    charge_id: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def reference(self) -> str:
        """The gateway's idempotency key for this attempt: a retry of the same attempt charges once."""
        return payment_reference(self.id, self.attempt)


def payment_reference(payment_id: int, attempt: int) -> str:
    """The gateway reference of a payment's attempt (what `charge` got and `find_charge` asks about)."""
    return f"payment-{payment_id}-{attempt}"
