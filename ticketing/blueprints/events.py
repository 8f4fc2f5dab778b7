"""Events and their seat maps."""

from __future__ import annotations

from flask_jwt_extended import jwt_required

from ..controllers import catalogue as controller
from ..controllers import seat_map
from ..schemas.catalogue import EventEnvelope, EventListEnvelope, EventSeatsEnvelope, StatusQuery
from .base import BEARER_OPTIONAL, Blueprint

blp = Blueprint("events", __name__, url_prefix="/events", description="Events and seat maps")


@blp.route("")
@blp.response(200, EventListEnvelope)
def list_events():
    """Every event with its seat counts."""
    return controller.list_events()


@blp.route("/<id:event_id>")
@blp.response(200, EventEnvelope)
@blp.alt_response(404, description="event_not_found")
def get_event(event_id):
    """One event with its seat counts."""
    return controller.get_event(event_id)


@blp.route("/<id:event_id>/seats")
@blp.arguments(StatusQuery, location="query")
@blp.response(200, EventSeatsEnvelope)
@blp.alt_response(304, description="Not Modified: the map is unchanged since the ETag sent in If-None-Match")
@blp.alt_response(404, description="event_not_found")
@blp.doc(**BEARER_OPTIONAL)
@jwt_required(optional=True)
def list_event_seats(query, event_id):
    """The event's seats by id, optionally only those in one status (ETag / If-None-Match, gzip)."""
    return seat_map.event_seat_map(event_id, query)
