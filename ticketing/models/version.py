"""A version per event that moves with every committed seat change (seat maps' ETags)."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# Counter rows per event: concurrent changes of one event mostly bump different rows, so the
# counter is no hot spot; readers add them up.
VERSION_SHARDS = 8


class EventVersion(db.Model):
    """One of an event's counters; `sum(version)` over its rows grows with every seat change."""

    __tablename__ = "event_versions"

    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
