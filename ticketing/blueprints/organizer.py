"""An organizer's changes of an event: edit, publish, close, block and unblock seats (managers)."""

from __future__ import annotations

from flask_jwt_extended import jwt_required

from ..controllers import organizer as controller
from ..controllers import refunds
from ..schemas.organizer import BlockBody, BlockResult, EventChangesBody, EventResult, SeatIdsBody, UnblockResult
from ..schemas.reports import CancelResult
from .base import BEARER, Blueprint

blp = Blueprint("organizer", __name__, url_prefix="/events", description="Events made by organizers (managers)")

FORBIDDEN = "not a manager of the event's organization"
NOT_FOUND = "also a draft of an organization the caller is not in"


@blp.route("/<id:event_id>", methods=["PATCH"])
@jwt_required()
@blp.arguments(EventChangesBody)
@blp.response(200, EventResult)
@blp.alt_response(403, codes=["forbidden"], description=FORBIDDEN)
@blp.alt_response(404, codes=["event_not_found"], description=NOT_FOUND)
@blp.alt_response(409, codes=["event_cancelled"])
@blp.doc(**BEARER)
def update_event(data, event_id):
    """Change the event's name, start, sales window or orphan rule (only the fields sent)."""
    return controller.update(event_id, data)


@blp.route("/<id:event_id>/publish", methods=["POST"])
@blp.response(200, EventResult)
@blp.alt_response(403, codes=["forbidden"], description=FORBIDDEN)
@blp.alt_response(404, codes=["event_not_found"], description=NOT_FOUND)
@blp.alt_response(409, codes=["event_cancelled"])
@blp.doc(**BEARER)
@jwt_required()
def publish_event(event_id):
    """Put the event on sale (a draft, or a closed event again)."""
    return controller.publish(event_id)


@blp.route("/<id:event_id>/close", methods=["POST"])
@blp.response(200, EventResult)
@blp.alt_response(403, codes=["forbidden"], description=FORBIDDEN)
@blp.alt_response(404, codes=["event_not_found"], description=NOT_FOUND)
@blp.alt_response(409, codes=["event_cancelled"])
@blp.doc(**BEARER)
@jwt_required()
def close_event(event_id):
    """Stop sales: no more holds or orders (orders already made may still be paid)."""
    return controller.close(event_id)


@blp.route("/<id:event_id>/cancel", methods=["POST"])
@blp.response(200, CancelResult)
@blp.alt_response(403, codes=["forbidden"], description=FORBIDDEN)
@blp.alt_response(404, codes=["event_not_found"], description=NOT_FOUND)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
def cancel_event(event_id):
    """Cancel the event: every pending order cancelled, every paid order refunded (each once, even when
    the call is repeated or interrupted), every ticket void. A repeat finishes what is left."""
    return refunds.cancel_event(event_id)


@blp.route("/<id:event_id>/seats/block", methods=["POST"])
@jwt_required()
@blp.arguments(BlockBody)
@blp.response(200, BlockResult)
@blp.alt_response(403, codes=["forbidden"], description=FORBIDDEN)
@blp.alt_response(
    404, codes=["seat_not_found", "event_not_found"], description=f"not a seat of this event; or {NOT_FOUND}"
)
@blp.alt_response(
    409,
    codes=["seats_unavailable", "event_cancelled"],
    description="details.unavailable lists the seats held, in an order or booked",
)
@blp.doc(**BEARER)
def block_seats(data, event_id):
    """Take seats off sale, all or none."""
    return controller.block(event_id, data)


@blp.route("/<id:event_id>/seats/unblock", methods=["POST"])
@jwt_required()
@blp.arguments(SeatIdsBody)
@blp.response(200, UnblockResult)
@blp.alt_response(403, codes=["forbidden"], description=FORBIDDEN)
@blp.alt_response(
    404, codes=["seat_not_found", "event_not_found"], description=f"not a seat of this event; or {NOT_FOUND}"
)
@blp.doc(**BEARER)
def unblock_seats(data, event_id):
    """Put blocked seats back on sale; `unblocked` lists those that were blocked."""
    return controller.unblock(event_id, data)
