"""Best available: the token's user asks for N seats of an event and gets the best ones held."""

from __future__ import annotations

import orjson
from flask import Response, current_app

from ..clock import current_clock, current_time
from ..errors import InvalidRequestError
from ..models import iso
from ..security import current_user_id, token_ids
from ..services import best_available as service
from ..services.seat_choice import SeatRequest
from .limits import hold_limits
from .presenters import seat_json


def _cache() -> service.GeometryCache:
    # dict.setdefault is atomic: threads racing to make the cache all get the one that was stored.
    return current_app.extensions.setdefault("best_available_geometry", service.GeometryCache())


def best_available(event_id: int, body: dict) -> Response:
    """The answer is built here with orjson (the dict is what BestAvailableResult would dump; a test
    compares them), not by the schema layer."""
    user_id, now = current_user_id(), current_time()
    most = current_app.config["MAX_SEATS_PER_USER"]
    count, accessible = body["count"], body["accessible"]
    if not 1 <= count <= most:
        raise InvalidRequestError(details={"count": [f"Must be between 1 and {most}."]})
    if accessible > count:
        raise InvalidRequestError(details={"accessible": ["Must not be more than count."]})
    request = SeatRequest(
        count=count,
        category=body.get("category"),
        section=body.get("section"),
        accessible=accessible,
        together=body["together"],
    )
    block = service.hold_best_available(
        user_id=user_id,
        event_id=event_id,
        request=request,
        clock=current_clock(),
        hold_seconds=current_app.config["HOLD_TTL_SECONDS"],
        limits=hold_limits(),
        cache=_cache(),
        token_ids=token_ids(),
    )
    labels = ", ".join(seat.label for seat in block.seats)
    noun = "Seat" if len(block.seats) == 1 else "Seats"
    body = {
        "message": f"{noun} {labels} locked until {iso(block.locked_until)}",
        "seats": [seat_json(seat, now=now, viewer_id=user_id) for seat in block.seats],
        "lock_expires_at": iso(block.locked_until),
    }
    return Response(orjson.dumps(body), mimetype="application/json")
