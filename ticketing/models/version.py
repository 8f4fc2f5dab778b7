"""A version per event that moves with every committed seat change (seat-map ETags, the change feed)."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class EventVersion(db.Model):
    """The event's counter: bumped, under its row lock, by every transaction that changes seats.

    The row lock is held until COMMIT, so versions are handed out in commit order: a reader that
    sees version N has every change up to N before it (what makes the change feed's cursor complete).
    """

    __tablename__ = "event_versions"

    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
