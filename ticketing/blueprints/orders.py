"""Orders: buy several seats at once through a payment (seed 004)."""

from __future__ import annotations

from flask_jwt_extended import jwt_required

from ..controllers import orders as controller
from ..controllers import refunds
from ..schemas.orders import (
    CreateOrderSchema,
    IdempotencyHeaders,
    OrderEnvelope,
    OrderListEnvelope,
    OrderResult,
    PayOrderSchema,
)
from ..schemas.reports import RefundBody, RefundResult
from .base import BEARER, Blueprint

blp = Blueprint("orders", __name__, url_prefix="/orders", description="Orders and payments")


@blp.route("", methods=["POST"])
@jwt_required()  # before the body is parsed: no token is a 401, whatever the body
@blp.arguments(CreateOrderSchema)
@blp.response(201, OrderResult)
@blp.alt_response(404, codes=["seat_not_found"])
@blp.alt_response(
    409,
    codes=["seats_unavailable", "seat_blocked", "hold_limit_reached", "event_not_on_sale", "orphan_seat"],
    description="`details.unavailable` lists the seats that cannot be had",
)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
def create_order(data):
    """Take every seat for the caller until the order expires, all or none."""
    return controller.create(data)


@blp.route("")
@blp.response(200, OrderListEnvelope)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
def list_orders():
    """The caller's orders, newest first."""
    return controller.list_orders()


@blp.route("/<id:order_id>")
@blp.response(200, OrderEnvelope)
@blp.alt_response(404, codes=["order_not_found"])
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
def get_order(order_id):
    """One of the caller's orders."""
    return controller.get(order_id)


@blp.route("/<id:order_id>/pay", methods=["POST"])
@jwt_required()
@blp.arguments(PayOrderSchema)
@blp.arguments(IdempotencyHeaders, location="headers")
@blp.response(200, OrderResult)
@blp.alt_response(402, codes=["payment_declined"], description="the order is payment_failed, its seats free again")
@blp.alt_response(404, codes=["order_not_found"])
@blp.alt_response(409, codes=["order_expired", "order_not_payable", "payment_in_progress"])
@blp.alt_response(502, codes=["payment_gateway_error"], description="nothing charged, the order may be paid again")
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
def pay_order(data, headers, order_id):
    """Pay the order: its seats are booked and one ticket per seat issued."""
    return controller.pay(order_id, data, headers)


@blp.route("/<id:order_id>/cancel", methods=["POST"])
@blp.response(200, OrderResult)
@blp.alt_response(404, codes=["order_not_found"])
@blp.alt_response(409, codes=["order_not_cancellable"])
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
def cancel_order(order_id):
    """Cancel a pending order; its seats are free again."""
    return controller.cancel(order_id)


@blp.route("/<id:order_id>/refund", methods=["POST"])
@jwt_required()
@blp.arguments(RefundBody)
@blp.arguments(IdempotencyHeaders, location="headers")
@blp.response(200, RefundResult)
@blp.alt_response(
    403, codes=["forbidden"], description="a member of the event's organization below manager (not the buyer)"
)
@blp.alt_response(
    404,
    codes=["order_not_found", "ticket_not_found"],
    description="another user's order to anyone but the event's managers; a code not of this order",
)
@blp.alt_response(
    409,
    codes=["order_not_refundable", "ticket_not_refundable", "refund_in_progress"],
    description="not paid (or refunded already, or the buyer's refund time is over); a ticket void or checked "
    "in (`details.ticket_codes`); another refund of the order under way",
)
@blp.alt_response(
    502, codes=["payment_gateway_error"], description="the gateway did not refund: nothing changed, retry with the key"
)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
def refund_order(data, headers, order_id):
    """Refund tickets of a paid order (all its valid ones when none are named): they become void, their
    seats are on sale again, and the money goes back through the gateway once. For the event's
    managers, and for the buyer while the event's `buyer_refunds_until` has not passed."""
    return refunds.refund(order_id, data, headers)
