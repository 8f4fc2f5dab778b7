"""The demo organizer of `seed-demo`: an account, its organization, the example theatre as a venue, and
an event on sale there with three price categories."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from ..models import ON_SALE
from . import organizer
from .auth import register_user
from .organizations import create_organization
from .seats import Clock
from .venues import create_venue

DEMO_ORGANIZER_EMAIL = "organizer@demo.example.com"
DEMO_PRICES = (("Premium", 4500), ("Standard", 3000), ("Balcony", 2000))


@dataclass(frozen=True)
class DemoOrganizer:
    email: str
    password: str
    organization_id: int
    venue_id: int
    event_id: int
    seat_count: int


def seed_demo_organizer(*, theatre_layout: dict, clock: Clock) -> DemoOrganizer:
    """Make the demo organizer (a fresh random password), their organization, the theatre and an event on
    sale in 90 days, priced per category."""
    password = secrets.token_urlsafe(12)
    user = register_user(email=DEMO_ORGANIZER_EMAIL, password=password, name="Demo organizer")
    organization = create_organization(name="Demo Theatre Company", owner_id=user.id)
    venue = create_venue(user_id=user.id, organization_id=organization.id, name="Demo theatre", layout=theatre_layout)
    starts_at = (clock() + timedelta(days=90)).replace(hour=19, minute=30, second=0, microsecond=0)
    event = organizer.create_event(
        user_id=user.id,
        organization_id=organization.id,
        event=organizer.NewEvent(
            name="Hamlet (demo: stalls and balcony)",
            venue_id=venue.id,
            starts_at=starts_at,
            currency="USD",
            categories=list(DEMO_PRICES),
            default_price_cents=None,
            sales_start=None,
            sales_end=None,
            no_orphan_seats=False,
            buyer_refunds_until=None,
        ),
        clock=clock,
    )
    organizer.set_status(user_id=user.id, event_id=event.id, status=ON_SALE, clock=clock)
    return DemoOrganizer(
        email=user.email,
        password=password,
        organization_id=organization.id,
        venue_id=venue.id,
        event_id=event.id,
        seat_count=event.seat_count,
    )
