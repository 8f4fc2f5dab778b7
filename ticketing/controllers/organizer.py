"""Events made by organizers: create, edit, publish, close, block and unblock seats."""

from __future__ import annotations

from ..clock import current_clock
from ..errors import InvalidRequestError
from ..models import CLOSED, ON_SALE
from ..security import current_user_id
from ..services import organizer as service
from .presenters import event_json


def create(organization_id: int, data: dict) -> tuple[dict, int]:
    new_event = service.NewEvent(
        name=data["name"],
        venue_id=data["venue_id"],
        starts_at=data["starts_at"],
        currency=data["currency"],
        categories=[(category["name"], category["price"]) for category in data["categories"]],
        default_price_cents=data.get("default_price"),
        sales_start=data.get("sales_start"),
        sales_end=data.get("sales_end"),
        no_orphan_seats=data["no_orphan_seats"],
        buyer_refunds_until=data.get("buyer_refunds_until"),
    )
    event = service.create_event(
        user_id=current_user_id(), organization_id=organization_id, event=new_event, clock=current_clock()
    )
    message = f"Event {event.name} created as a draft with {event.seat_count} seats; publish it to sell"
    return {"message": message, "event": event_json(event)}, 201


def update(event_id: int, data: dict) -> dict:
    event = service.update_event(user_id=current_user_id(), event_id=event_id, changes=data, clock=current_clock())
    return {"message": f"Event {event.name} updated", "event": event_json(event)}


def publish(event_id: int) -> dict:
    event = service.set_status(user_id=current_user_id(), event_id=event_id, status=ON_SALE, clock=current_clock())
    return {"message": f"Event {event.name} is on sale", "event": event_json(event)}


def close(event_id: int) -> dict:
    event = service.set_status(user_id=current_user_id(), event_id=event_id, status=CLOSED, clock=current_clock())
    return {"message": f"Event {event.name} is closed: no more holds or orders", "event": event_json(event)}


def _seats(count: int) -> str:
    return f"{count} seat" if count == 1 else f"{count} seats"


def _distinct(seat_ids: list[int]) -> list[int]:
    if len(set(seat_ids)) != len(seat_ids):
        raise InvalidRequestError(details={"seat_ids": ["A seat appears more than once."]})
    return seat_ids


def block(event_id: int, data: dict) -> dict:
    blocked = service.block_seats(
        user_id=current_user_id(),
        event_id=event_id,
        seat_ids=_distinct(data["seat_ids"]),
        clock=current_clock(),
        reason=data.get("reason"),
    )
    reason = f" ({data['reason']})" if data.get("reason") else ""
    return {"message": f"{_seats(len(blocked))} taken off sale{reason}", "blocked": blocked}


def unblock(event_id: int, data: dict) -> dict:
    seat_ids = _distinct(data["seat_ids"])
    unblocked = service.unblock_seats(
        user_id=current_user_id(), event_id=event_id, seat_ids=seat_ids, clock=current_clock()
    )
    return {"message": f"{_seats(len(unblocked))} back on sale", "unblocked": unblocked}
