"""Orders: buy several seats at once through a payment (seed 004)."""

from __future__ import annotations

from flask_jwt_extended import jwt_required

from ..controllers import orders as controller
from ..schemas.orders import (
    CreateOrderSchema,
    IdempotencyHeaders,
    OrderEnvelope,
    OrderListEnvelope,
    OrderResult,
    PayOrderSchema,
)
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
