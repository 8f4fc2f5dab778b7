"""Turning models and views into the JSON shapes of the contract."""

from __future__ import annotations

from datetime import datetime

from ..models import LOCKED, Ticket, effective_status, format_price, is_taken, iso
from ..services.catalogue import EventSummary
from ..services.orders import OrderView
from ..services.tickets import TicketDetails


def event_json(event: EventSummary) -> dict:
    return {
        "id": event.id,
        "name": event.name,
        "starts_at": iso(event.starts_at),
        "currency": event.currency,
        "seat_count": event.seat_count,
        "available": event.available,
        "locked": event.locked,
        "booked": event.booked,
        "blocked": event.blocked,
        "status": event.status,
        "sales_start": iso(event.sales_start),
        "sales_end": iso(event.sales_end),
        "venue_id": event.venue_id,
        "organization_id": event.organization_id,
        "categories": [{"name": c.name, "price": format_price(c.price_cents)} for c in event.categories],
        "no_orphan_seats": event.no_orphan_seats,
        "buyer_refunds_until": iso(event.buyer_refunds_until),
        "focal_point": (
            {"x": _position(event.focal_point.x), "y": _position(event.focal_point.y)} if event.focal_point else None
        ),
    }


def _position(value: float | None) -> float | int | None:
    # 12.0 -> 12: the map of a 100,000-seat event is smaller, and reads as the layout was written.
    if value is not None and value.is_integer():
        return int(value)
    return value


def seat_json(seat, *, now: datetime, viewer_id: int | None) -> dict:
    """A seat (model or view) as clients see it; only the holder learns that it is theirs."""
    status = effective_status(seat.status, seat.locked_until, now)
    body = {
        "id": seat.id,
        "event_id": seat.event_id,
        "label": seat.label,
        "row": seat.row,
        "number": seat.number,
        "price": format_price(seat.price_cents),
        "status": status,
        "is_taken": is_taken(status, seat.order_id),
        "section": seat.section,
        "category": seat.category,
        "accessible": bool(seat.accessible),
        "x": _position(seat.x),
        "y": _position(seat.y),
    }
    if status == LOCKED and viewer_id is not None and seat.holder_id == viewer_id:
        body["locked_by_me"] = True
        body["lock_expires_at"] = iso(seat.locked_until)
    return body


def ticket_json(ticket: Ticket, label: str) -> dict:
    return {"code": ticket.code, "seat_id": ticket.seat_id, "label": label}


def ticket_details_json(ticket: TicketDetails) -> dict:
    """A ticket as its holder sees it (`GET /tickets`): what it is for and whether it admits."""
    return {
        "code": ticket.code,
        "status": ticket.status,
        "seat": {
            "id": ticket.seat_id,
            "label": ticket.label,
            "section": ticket.section,
            "row": ticket.row,
            "number": ticket.number,
        },
        "event": {"id": ticket.event_id, "name": ticket.event_name, "starts_at": iso(ticket.event_starts_at)},
        "order_id": ticket.order_id,
        "price": format_price(ticket.price_cents),
        "checked_in": ticket.checked_in_at is not None,
        "checked_in_at": iso(ticket.checked_in_at),
    }


def user_json(user, *, with_role: bool = False) -> dict:
    body = {"id": user.id, "email": user.email, "name": user.name}
    if with_role:
        body["is_admin"] = bool(user.is_admin)
    return body


def order_json(order: OrderView) -> dict:
    return {
        "id": order.id,
        "event_id": order.event_id,
        "status": order.status,
        "seat_ids": order.seat_ids,
        "total": format_price(order.total_cents),
        "currency": order.currency,
        "expires_at": iso(order.expires_at),
        "created_at": iso(order.created_at),
        "tickets": [
            {"code": t.code, "seat_id": t.seat_id, "label": t.label, "status": t.status} for t in order.tickets
        ],
        "refunded_total": format_price(order.refunded_cents),
    }
