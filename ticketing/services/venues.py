"""Venues: an organization's rooms and their layouts (managers make and read them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..database import write_transaction
from ..errors import OrganizationNotFoundError, VenueNotFoundError
from ..extensions import db
from ..models import MANAGER, Organization, Venue, utcnow
from . import audit
from .layouts import seat_count, validate_layout
from .roles import require_role


@dataclass(frozen=True)
class VenueView:
    id: int
    organization_id: int
    name: str
    seat_count: int
    layout: dict
    created_at: datetime


def _view(venue: Venue) -> VenueView:
    return VenueView(
        id=venue.id,
        organization_id=venue.organization_id,
        name=venue.name,
        seat_count=venue.seat_count,
        layout=venue.layout,
        created_at=venue.created_at,
    )


def create_venue(*, user_id: int | None, organization_id: int, name: str, layout: object) -> VenueView:
    """A venue of the organization with the layout, validated (InvalidRequestError names each problem's
    place). `user_id` needs the role manager there; None is an operator at the command line."""
    checked = validate_layout(layout)
    with write_transaction() as session:
        if user_id is not None:
            require_role(session, user_id=user_id, organization_id=organization_id, role=MANAGER)
        elif session.get(Organization, organization_id) is None:
            raise OrganizationNotFoundError()
        venue = Venue(organization_id=organization_id, name=name, layout=checked, seat_count=seat_count(checked))
        session.add(venue)
        session.flush()
        audit.record(
            session,
            user_id=user_id,
            action=audit.CREATE_VENUE,
            at=utcnow(),
            organization_id=organization_id,
            details={"venue_id": venue.id, "name": name, "seat_count": venue.seat_count},
        )
    return _view(venue)


def list_venues(*, user_id: int, organization_id: int) -> list[VenueView]:
    """The organization's venues by id (managers)."""
    require_role(db.session, user_id=user_id, organization_id=organization_id, role=MANAGER)
    venues = db.session.scalars(select(Venue).where(Venue.organization_id == organization_id).order_by(Venue.id))
    return [_view(venue) for venue in venues]


def get_venue(*, user_id: int, venue_id: int) -> VenueView:
    """One venue (managers of its organization; to anyone else it does not exist)."""
    venue = db.session.get(Venue, venue_id)
    if venue is None:
        raise VenueNotFoundError()
    require_role(
        db.session, user_id=user_id, organization_id=venue.organization_id, role=MANAGER, outsider=VenueNotFoundError()
    )
    return _view(venue)
