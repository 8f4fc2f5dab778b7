"""Events and their seat maps."""

from __future__ import annotations

from flask_jwt_extended import jwt_required

from ..controllers import best, changes, seat_map
from ..controllers import catalogue as controller
from ..schemas.booking import BestAvailableBody, BestAvailableResult
from ..schemas.catalogue import (
    ChangesEnvelope,
    ChangesQuery,
    EventEnvelope,
    EventListEnvelope,
    EventSeatsEnvelope,
    StatusQuery,
)
from ..security import checks_token_itself
from .base import BEARER, BEARER_OPTIONAL, Blueprint

blp = Blueprint("events", __name__, url_prefix="/events", description="Events and seat maps")


@blp.route("")
@blp.response(200, EventListEnvelope)
@blp.doc(**BEARER_OPTIONAL)
@jwt_required(optional=True)
def list_events():
    """Every event on sale, closed or cancelled, with its seat counts; with a token, also the drafts of
    the caller's organizations."""
    return controller.list_events()


@blp.route("/<id:event_id>")
@blp.response(200, EventEnvelope)
@blp.alt_response(404, codes=["event_not_found"], description="also a draft, to anyone outside its organization")
@blp.doc(**BEARER_OPTIONAL)
@jwt_required(optional=True)
def get_event(event_id):
    """One event with its seat counts."""
    return controller.get_event(event_id)


@blp.route("/<id:event_id>/seats")
@blp.arguments(StatusQuery, location="query")
@blp.response(200, EventSeatsEnvelope)
@blp.alt_response(304, description="Not Modified: the map is unchanged since the ETag sent in If-None-Match")
@blp.alt_response(404, codes=["event_not_found"])
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER_OPTIONAL)
@jwt_required(optional=True)
def list_event_seats(query, event_id):
    """The event's seats by id, optionally only those in one status (ETag / If-None-Match, gzip)."""
    return seat_map.event_seat_map(event_id, query)


@blp.route("/<id:event_id>/changes")
@blp.arguments(ChangesQuery, location="query")
@blp.response(200, ChangesEnvelope)
@blp.alt_response(400, codes=["validation_error"], description="a bad cursor or wait")
@blp.alt_response(404, codes=["event_not_found"])
@blp.alt_response(
    429,
    codes=["rate_limited"],
    description="this client address already has MAX_HELD_FEEDS_PER_ADDRESS requests with `wait` held open "
    "(see Retry-After); a request without `wait` is still answered",
)
@blp.doc(**BEARER_OPTIONAL)
@jwt_required(optional=True)
def list_event_changes(query, event_id):
    """The seats whose status changed after the cursor `since`, oldest first, each once with its latest
    status; with `wait`, the request is held until a change arrives or the wait runs out. Complete
    across workers and hosts; a lock that runs out shows up as a change to `available`. One client
    address may hold only a few requests open at once (MAX_HELD_FEEDS_PER_ADDRESS, 20 by default, per
    worker process); one more is answered at once with `429 rate_limited` and a Retry-After."""
    return changes.event_changes(event_id, query)


@blp.route("/<id:event_id>/best-available", methods=["POST"])
@jwt_required()  # before the body is parsed: no token is a 401, whatever the body
@blp.arguments(BestAvailableBody)
@blp.response(200, BestAvailableResult)
@blp.alt_response(
    400,
    codes=["validation_error"],
    description="count outside 1..MAX_SEATS_PER_USER, or more accessible seats than count",
)
@blp.alt_response(404, codes=["event_not_found"], description="also a draft, to anyone outside its organization")
@blp.alt_response(409, codes=["no_seats_available", "hold_limit_reached", "event_not_on_sale"])
@blp.alt_response(
    503,
    codes=["busy", "database_unavailable"],
    description="other buyers took the chosen seats first, again and again; retry",
)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@checks_token_itself
def best_available(body, event_id):
    """Choose the best `count` free seats (adjacent in one row, leaving no single seat alone, nearest the
    venue's focal point; see docs/best-available.md) and lock them for the caller as `POST
    /seats/<id>/lock` would."""
    return best.best_available(event_id, body)
