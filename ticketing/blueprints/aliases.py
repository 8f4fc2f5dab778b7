"""The seeds' routes (exercises 000-002), answering exactly as the /seats routes do."""

from __future__ import annotations

from flask_jwt_extended import jwt_required

from ..controllers import booking
from ..schemas.booking import ConfirmResult, LockResult, SeatIdBody
from ..security import checks_token_itself
from .base import BEARER, Blueprint

blp = Blueprint("seed-aliases", __name__, description="Seed-compatible aliases of lock and confirm")


@blp.route("/lock/<id:seat_id>", methods=["POST"])
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
def lock_by_path(seat_id):
    """Same as `POST /seats/<id>/lock`."""
    return booking.lock(seat_id)


@blp.route("/confirm/<id:seat_id>", methods=["POST"])
@blp.response(200, ConfirmResult)
@blp.alt_response(402, codes=["payment_required"], description="a priced seat is bought through /orders")
@blp.alt_response(404, codes=["seat_not_found"])
@blp.alt_response(409, codes=["seat_not_locked", "lock_expired", "seat_booked", "seat_in_order"])
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
def confirm_by_path(seat_id):
    """Same as `POST /seats/<id>/confirm`."""
    return booking.confirm(seat_id)


@blp.route("/lock", methods=["POST"])
@jwt_required()  # before the body is parsed: no token is a 401, whatever the body
@blp.arguments(SeatIdBody)
@blp.response(200, LockResult)
@blp.alt_response(404, codes=["seat_not_found"])
@blp.alt_response(
    409,
    codes=["seat_locked", "seat_booked", "seat_blocked", "seat_in_order", "hold_limit_reached", "event_not_on_sale"],
)
@blp.alt_response(
    503, codes=["busy", "database_unavailable"], description="the seat's row could not be had in time; retry"
)
@blp.alt_response(403, codes=["forbidden"], description="`userId` is not the token's user")
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@checks_token_itself
def lock_by_body(body):
    """Same as `POST /seats/<seatId>/lock`; a `userId` must be the token's user."""
    booking.check_body_user(body)
    return booking.lock(body["seatId"])


@blp.route("/confirm", methods=["POST"])
@jwt_required()
@blp.arguments(SeatIdBody)
@blp.response(200, ConfirmResult)
@blp.alt_response(402, codes=["payment_required"], description="a priced seat is bought through /orders")
@blp.alt_response(404, codes=["seat_not_found"])
@blp.alt_response(409, codes=["seat_not_locked", "lock_expired", "seat_booked", "seat_in_order"])
@blp.alt_response(403, codes=["forbidden"], description="`userId` is not the token's user")
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
def confirm_by_body(body):
    """Same as `POST /seats/<seatId>/confirm`; a `userId` must be the token's user."""
    booking.check_body_user(body)
    return booking.confirm(body["seatId"])
