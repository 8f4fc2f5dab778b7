"""Seats: read, lock, confirm, release."""

from __future__ import annotations

from flask_jwt_extended import jwt_required

from ..controllers import booking
from ..controllers import catalogue as controller
from ..schemas.booking import ConfirmResult, LockResult, ReleaseResult
from ..schemas.catalogue import SeatEnvelope, SeatListEnvelope, SeatsQuery
from ..security import checks_token_itself
from .base import BEARER, BEARER_OPTIONAL, Blueprint

blp = Blueprint("seats", __name__, url_prefix="/seats", description="Seats: read, lock, confirm, release")


@blp.route("")
@blp.arguments(SeatsQuery, location="query")
@blp.response(200, SeatListEnvelope)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER_OPTIONAL)
@jwt_required(optional=True)
def list_seats(query):
    """Seats of one event (`event_id`, all of them), or of all events in pages of `limit` by id
    (`after` = the `next_after` of the page before), optionally in one status."""
    return controller.list_seats(query)


@blp.route("/<id:seat_id>")
@blp.response(200, SeatEnvelope)
@blp.alt_response(404, codes=["seat_not_found"])
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER_OPTIONAL)
@jwt_required(optional=True)
def get_seat(seat_id):
    """One seat."""
    return controller.get_seat(seat_id)


@blp.route("/<id:seat_id>/lock", methods=["POST"])
@blp.response(200, LockResult)
@blp.alt_response(404, codes=["seat_not_found"])
@blp.alt_response(
    409,
    codes=["seat_locked", "seat_booked", "seat_blocked", "seat_in_order", "hold_limit_reached", "event_not_on_sale"],
)
@blp.alt_response(
    503, codes=["busy", "database_unavailable"], description="the seat's row could not be had in time; retry"
)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
@checks_token_itself
def lock_seat(seat_id):
    """Lock the seat for `HOLD_TTL_SECONDS`; locking it again renews the lock."""
    return booking.lock(seat_id)


@blp.route("/<id:seat_id>/lock", methods=["DELETE"])
@blp.response(200, ReleaseResult)
@blp.alt_response(404, codes=["seat_not_found"])
@blp.alt_response(409, codes=["seat_not_locked", "seat_in_order"])
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
def release_seat(seat_id):
    """Release the caller's lock on the seat."""
    return booking.release(seat_id)


@blp.route("/<id:seat_id>/confirm", methods=["POST"])
@blp.response(200, ConfirmResult)
@blp.alt_response(402, codes=["payment_required"], description="a priced seat is bought through /orders")
@blp.alt_response(404, codes=["seat_not_found"])
@blp.alt_response(409, codes=["seat_not_locked", "lock_expired", "seat_booked", "seat_in_order"])
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
def confirm_seat(seat_id):
    """Book a free seat the caller holds a live lock on, and issue its ticket."""
    return booking.confirm(seat_id)
