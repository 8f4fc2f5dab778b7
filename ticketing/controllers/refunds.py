"""Refunds of orders and an event's cancellation."""

from __future__ import annotations

from flask import current_app

from ..clock import current_clock
from ..models import format_price
from ..security import current_user_id
from ..services import cancellation
from ..services import refunds as service
from .presenters import event_json, order_json


def refund(order_id: int, data: dict, headers: dict) -> dict:
    result = service.refund_order(
        user_id=current_user_id(),
        order_id=order_id,
        ticket_codes=data.get("ticket_codes"),
        reason=data.get("reason"),
        idempotency_key=headers.get("idempotency_key"),
        clock=current_clock(),
        gateway=current_app.extensions["payment_gateway"],
    )
    count = len(result.ticket_codes)
    tickets = "1 ticket" if count == 1 else f"{count} tickets"
    message = (
        f"Order {result.order.id}: {tickets} refunded ({format_price(result.amount_cents)} {result.currency}); "
        "their seats are on sale again"
    )
    return {
        "message": message,
        "order": order_json(result.order),
        "refund": {
            "id": result.id,
            "amount": format_price(result.amount_cents),
            "currency": result.currency,
            "ticket_codes": result.ticket_codes,
        },
    }


def cancel_event(event_id: int) -> dict:
    done = cancellation.cancel_event(
        user_id=current_user_id(),
        event_id=event_id,
        clock=current_clock(),
        gateway=current_app.extensions["payment_gateway"],
    )
    orders = "1 order" if done.refunded_orders == 1 else f"{done.refunded_orders} orders"
    message = f"Event {done.event.name} cancelled: {orders} refunded, every ticket void"
    if done.refunds_failed:
        message = (
            f"Event {done.event.name} cancelled: {orders} refunded; the payment gateway refused "
            f"{done.refunds_failed} more, which will be retried"
        )
    return {
        "message": message,
        "event": event_json(done.event),
        "refunded_orders": done.refunded_orders,
        "refunds_pending": done.refunds_failed,
    }
