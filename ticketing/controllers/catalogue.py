"""Events and seat maps (reads; a token adds `locked_by_me`, and the drafts of the caller's organizations)."""

from __future__ import annotations

from ..clock import current_time
from ..errors import EventNotFoundError, SeatNotFoundError
from ..security import optional_user_id
from ..services import catalogue
from .presenters import event_json, seat_json


def list_events() -> dict:
    events = catalogue.list_events(now=current_time(), viewer_id=optional_user_id())
    return {"events": [event_json(event) for event in events]}


def get_event(event_id: int) -> dict:
    event = catalogue.get_event(event_id=event_id, now=current_time(), viewer_id=optional_user_id())
    if event is None:
        raise EventNotFoundError()
    return {"event": event_json(event)}


def list_seats(query: dict) -> dict:
    now, viewer, event_id = current_time(), optional_user_id(), query.get("event_id")
    if event_id is not None:  # one event's seats: all of them, as before pages existed
        seats = catalogue.list_seats(now=now, viewer_id=viewer, event_id=event_id, status=query.get("status"))
        return {"seats": [seat_json(seat, now=now, viewer_id=viewer) for seat in seats]}
    page = catalogue.list_seats_page(
        now=now, viewer_id=viewer, status=query.get("status"), after=query.get("after"), limit=query["limit"]
    )
    return {"seats": [seat_json(seat, now=now, viewer_id=viewer) for seat in page.seats], "next_after": page.next_after}


def get_seat(seat_id: int) -> dict:
    now, viewer = current_time(), optional_user_id()
    seat = catalogue.get_seat(seat_id=seat_id, now=now, viewer_id=viewer)
    if seat is None:
        raise SeatNotFoundError()
    return {"seat": seat_json(seat, now=now, viewer_id=viewer)}
