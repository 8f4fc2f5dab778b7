"""Orders and payments of the token's user."""

from __future__ import annotations

from flask import current_app

from ..clock import current_clock, current_time
from ..errors import OrderNotFoundError
from ..models import format_price
from ..security import current_user_id
from ..services import orders as order_service
from ..services import payments as payment_service
from .limits import hold_limits
from .presenters import order_json


def create(data: dict) -> tuple[dict, int]:
    order = order_service.create_order(
        user_id=current_user_id(),
        seat_ids=data["seat_ids"],
        clock=current_clock(),
        checkout_seconds=current_app.config["CHECKOUT_TTL_SECONDS"],
        limits=hold_limits(),
    )
    body = order_json(order)
    message = f"Order {order.id} holds {len(order.seat_ids)} seats until {body['expires_at']}; pay to book them"
    return {"message": message, "order": body}, 201


def pay(order_id: int, data: dict, headers: dict) -> dict:
    order = payment_service.pay_order(
        user_id=current_user_id(),
        order_id=order_id,
        payment_token=data.get("payment_token"),
        idempotency_key=headers.get("idempotency_key"),
        clock=current_clock(),
        gateway=current_app.extensions["payment_gateway"],
    )
    paid = f"{format_price(order.total_cents)} {order.currency}"
    return {"message": f"Order {order.id} paid ({paid}): {len(order.tickets)} tickets", "order": order_json(order)}


def cancel(order_id: int) -> dict:
    order = order_service.cancel_order(user_id=current_user_id(), order_id=order_id, clock=current_clock())
    return {"message": f"Order {order.id} cancelled; its seats are free again", "order": order_json(order)}


def list_orders() -> dict:
    orders = order_service.list_orders(user_id=current_user_id(), now=current_time())
    return {"orders": [order_json(order) for order in orders]}


def get(order_id: int) -> dict:
    order = order_service.get_order(user_id=current_user_id(), order_id=order_id, now=current_time())
    if order is None:
        raise OrderNotFoundError()
    return {"order": order_json(order)}
