"""Events: a show with a seat map, its sales state and its price categories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigId, utcnow

DRAFT, ON_SALE, CLOSED, CANCELLED = "draft", "on_sale", "closed", "cancelled"
EVENT_STATUSES = (DRAFT, ON_SALE, CLOSED, CANCELLED)
# What buyers may see; a draft exists only for its organization's members (and platform admins).
PUBLIC_STATUSES = (ON_SALE, CLOSED, CANCELLED)


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime | None] = mapped_column(DateTime)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # None for events made by `seed-seats` (only platform admins organise those).
    organization_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    venue_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("venues.id", ondelete="SET NULL"))
    # Organizers make drafts (services.organizer); the seeding commands make events on sale.
    status: Mapped[str] = mapped_column(String(12), default=ON_SALE, server_default=ON_SALE)
    sales_start: Mapped[datetime | None] = mapped_column(DateTime)
    sales_end: Mapped[datetime | None] = mapped_column(DateTime)
    no_orphan_seats: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    buyer_refunds_until: Mapped[datetime | None] = mapped_column(DateTime)


class EventCategory(db.Model):
    """A price category of an event (seats name theirs in `seats.category`)."""

    __tablename__ = "event_categories"

    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    price_cents: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer, default=0)  # the order the organizer listed them in


class EventGeometry(db.Model):
    """What never changes about an event's seats for best available (services.best_available.Geometry
    as JSON): measured from the seats once per event, then read by every worker."""

    __tablename__ = "event_geometries"

    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    geometry: Mapped[str] = mapped_column(Text)


def is_on_sale(
    status: str,
    *,
    sales_start: datetime | None,
    sales_end: datetime | None,
    starts_at: datetime | None,
    now: datetime,
) -> bool:
    """True when buyers may hold or order the event's seats at `now`: on sale, inside its sales window
    (start included, end excluded), and not started yet."""
    if status != ON_SALE:
        return False
    if sales_start is not None and now < sales_start:
        return False
    if sales_end is not None and now >= sales_end:
        return False
    return starts_at is None or now < starts_at
