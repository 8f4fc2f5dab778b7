"""The door (role door): check tickets in and out, read the event's scans, take the list offline."""

from __future__ import annotations

from flask_jwt_extended import jwt_required

from ..controllers import checkins as controller
from ..schemas.checkins import CheckinBody, CheckinListEnvelope, CheckinResult, CheckinsQuery, DoorListEnvelope
from ..security import checks_token_itself
from .base import BEARER, Blueprint

blp = Blueprint("checkins", __name__, url_prefix="/events", description="The door: check-in (role door)")

FORBIDDEN = "no role in the event's organization"
NOT_FOUND = "also a draft of an organization the caller is not in"


@blp.route("/<id:event_id>/checkins", methods=["POST"])
@jwt_required()
@blp.arguments(CheckinBody)
@blp.response(201, CheckinResult)
@blp.alt_response(403, codes=["forbidden"], description=FORBIDDEN)
@blp.alt_response(
    404,
    codes=["ticket_not_found", "event_not_found"],
    description=f"an unknown code or another event's ticket (the scan is recorded); or {NOT_FOUND}",
)
@blp.alt_response(
    409,
    codes=["already_checked_in", "ticket_void", "not_checked_in"],
    description="the scan is recorded; already_checked_in: details.checked_in_at and details.gate of the admission",
)
@blp.doc(**BEARER)
@checks_token_itself
def check_in(data, event_id):
    """Scan a ticket in (or out): each ticket is admitted once until it exits; the same nonce again
    gets the first answer again."""
    return controller.check_in(event_id, data)


@blp.route("/<id:event_id>/checkins")
@jwt_required()
@blp.arguments(CheckinsQuery, location="query")
@blp.response(200, CheckinListEnvelope)
@blp.alt_response(403, codes=["forbidden"], description=FORBIDDEN)
@blp.alt_response(404, codes=["event_not_found"], description=NOT_FOUND)
@blp.doc(**BEARER)
def list_checkins(query, event_id):
    """The event's scans, admitted and refused, in the order they were recorded (pages by `after`)."""
    return controller.list_checkins(event_id, query)


@blp.route("/<id:event_id>/door-list")
@jwt_required()
@blp.response(200, DoorListEnvelope)
@blp.alt_response(403, codes=["forbidden"], description=FORBIDDEN)
@blp.alt_response(404, codes=["event_not_found"], description=NOT_FOUND)
@blp.doc(**BEARER)
def door_list(event_id):
    """Every ticket of the event with where it stands at the door: what a door takes offline."""
    return controller.door_list(event_id)
