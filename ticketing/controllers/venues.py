"""Venues and their layouts, for the organization's managers."""

from __future__ import annotations

from ..security import current_user_id
from ..services import venues as service


def _venue_json(venue) -> dict:
    return {
        "id": venue.id,
        "organization_id": venue.organization_id,
        "name": venue.name,
        "seat_count": venue.seat_count,
        "layout": venue.layout,
    }


def create(organization_id: int, data: dict) -> tuple[dict, int]:
    venue = service.create_venue(
        user_id=current_user_id(), organization_id=organization_id, name=data["name"], layout=data["layout"]
    )
    message = f"Venue {venue.name} created with {venue.seat_count} seats"
    return {"message": message, "venue": _venue_json(venue)}, 201


def list_venues(organization_id: int) -> dict:
    venues = service.list_venues(user_id=current_user_id(), organization_id=organization_id)
    return {"venues": [_venue_json(venue) for venue in venues]}


def get(venue_id: int) -> dict:
    return {"venue": _venue_json(service.get_venue(user_id=current_user_id(), venue_id=venue_id))}
