"""Locking, confirming and releasing one seat for the token's user."""

from __future__ import annotations

import orjson
from flask import Response, current_app

from ..clock import current_clock, current_time
from ..errors import ForbiddenError
from ..models import iso
from ..security import current_user_id, token_ids
from ..services import seats as seat_service
from .limits import hold_limits
from .presenters import seat_json, ticket_json


def lock(seat_id: int) -> Response:
    """The hot route's answer is built here with orjson (the dict is what LockResult would dump; a
    test compares them), not by the schema layer."""
    user_id, now = current_user_id(), current_time()
    seat = seat_service.hold_seat(
        user_id=user_id,
        seat_id=seat_id,
        clock=current_clock(),
        hold_seconds=current_app.config["HOLD_TTL_SECONDS"],
        limits=hold_limits(),
        token_ids=token_ids(),
        lock_timeout_ms=current_app.config["LOCK_TIMEOUT_MS"],
    )
    body = {
        "message": f"Seat {seat.label} locked until {iso(seat.locked_until)}",
        "seat": seat_json(seat, now=now, viewer_id=user_id),
        "lock_expires_at": iso(seat.locked_until),
    }
    return Response(orjson.dumps(body), mimetype="application/json")


def confirm(seat_id: int) -> dict:
    user_id, now = current_user_id(), current_time()
    confirmation = seat_service.confirm_seat(user_id=user_id, seat_id=seat_id, clock=current_clock())
    seat = confirmation.seat
    return {
        "message": f"Seat {seat.label} booked successfully",
        "seat": seat_json(seat, now=now, viewer_id=user_id),
        "ticket": ticket_json(confirmation.ticket, seat.label),
    }


def release(seat_id: int) -> dict:
    user_id, now = current_user_id(), current_time()
    seat = seat_service.release_hold(user_id=user_id, seat_id=seat_id, clock=current_clock())
    return {"message": f"Seat {seat.label} released", "seat": seat_json(seat, now=now, viewer_id=user_id)}


def check_body_user(body: dict) -> None:
    """Seed 002 sends `userId`; it may only name the token's own user (as a JSON integer or a string)."""
    claimed = body.get("userId")
    if claimed is not None and not _names_user(claimed, current_user_id()):
        raise ForbiddenError("userId does not match the token's user.")


def _names_user(claimed: object, user_id: int) -> bool:
    # Only these two shapes are compared: str() of an arbitrary JSON value (a list nested 900 deep)
    # could raise, and 1.0 or true are not ids.
    if isinstance(claimed, bool):
        return False
    if isinstance(claimed, int):
        return claimed == user_id
    return isinstance(claimed, str) and claimed == str(user_id)
