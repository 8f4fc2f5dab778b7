"""The door: scans in, answers out (a refusal is recorded by the service, then raised here)."""

from __future__ import annotations

import orjson
from flask import Response

from ..clock import current_clock
from ..errors import AlreadyCheckedInError, NotCheckedInError, TicketNotFoundError, TicketVoidError
from ..models import ADMITTED, ALREADY_CHECKED_IN, EXITED, NOT_CHECKED_IN, UNKNOWN_TICKET, VOID_TICKET, iso
from ..security import current_user_id, token_ids
from ..services import checkins as service
from .presenters import ticket_details_json

# The error each refusal answers with (a forced upload answers 201 and names the result instead).
REFUSALS = {
    ALREADY_CHECKED_IN: AlreadyCheckedInError,
    VOID_TICKET: TicketVoidError,
    NOT_CHECKED_IN: NotCheckedInError,
    UNKNOWN_TICKET: TicketNotFoundError,
}
_BY_CODE = {error.code: error for error in REFUSALS.values()}


def checkin_json(checkin: service.CheckinView) -> dict:
    return {
        "id": checkin.id,
        "event_id": checkin.event_id,
        "code": checkin.code,
        "type": checkin.kind,
        "result": checkin.result,
        "gate": checkin.gate,
        "forced": checkin.forced,
        "scanned_at": iso(checkin.scanned_at),
        "recorded_at": iso(checkin.recorded_at),
        "user_id": checkin.user_id,
    }


def _where(gate: str) -> str:
    return f" at {gate}" if gate else ""


def _words(outcome: service.Outcome) -> tuple[str, dict | None]:
    """The sentence for a decided scan, and a refusal's details."""
    ticket, result = outcome.ticket, outcome.result
    seat = f"seat {ticket.label}" if ticket else ""
    if result == ADMITTED:
        return f"Ticket admitted: {seat}", None
    if result == EXITED:
        return f"Ticket exited: {seat}; it may enter again", None
    if result == ALREADY_CHECKED_IN:
        inside = outcome.inside
        assert inside is not None
        details = {"checked_in_at": iso(inside.at), "gate": inside.gate}
        return f"Already checked in{_where(inside.gate)} at {iso(inside.at)} ({seat})", details
    if result == VOID_TICKET:
        return f"{TicketVoidError.message} ({seat})", None
    if result == NOT_CHECKED_IN:
        return f"{NotCheckedInError.message} ({seat})", None
    return "There is no ticket with this code for this event.", None


def present(outcome: service.Outcome) -> service.Answer:
    """Word a decided scan as the answer the door gets (and a retry gets again)."""
    message, details = _words(outcome)
    if outcome.forced or outcome.result in (ADMITTED, EXITED):
        body = {
            "message": f"Offline scan recorded: {message}" if outcome.forced else message,
            "result": outcome.result,
            "ticket": ticket_details_json(outcome.ticket) if outcome.ticket else None,
            "checkin": checkin_json(outcome.checkin),
        }
        return service.Answer(status=201, body=body)
    error = REFUSALS[outcome.result](message, details=details)
    return service.Answer(status=error.status, body=error.to_dict())


def check_in(event_id: int, data: dict) -> Response:
    """A success is answered here with orjson (the body is what CheckinResult would dump; a test
    compares them), not by the schema layer; a refusal is raised as its error."""
    scan = service.Scan(
        code=data["code"],
        nonce=data["nonce"],
        kind=data["type"],
        gate=data["gate"],
        scanned_at=data.get("scanned_at"),
        force=data["force"],
    )
    answer = service.check_in(
        user_id=current_user_id(),
        event_id=event_id,
        scan=scan,
        clock=current_clock(),
        present=present,
        token_ids=token_ids(),
    )
    if answer.status == 201:
        return Response(orjson.dumps(answer.body), status=201, mimetype="application/json")
    body = answer.body
    raise _BY_CODE[body["code"]](body["message"], details=body.get("details"))


def list_checkins(event_id: int, query: dict) -> dict:
    checkins, next_after = service.list_checkins(
        user_id=current_user_id(), event_id=event_id, after=query["after"], limit=query["limit"]
    )
    return {"checkins": [checkin_json(checkin) for checkin in checkins], "next_after": next_after}


def door_list(event_id: int) -> dict:
    listed = service.door_list(user_id=current_user_id(), event_id=event_id)
    return {
        "event": {"id": listed.event_id, "name": listed.event_name, "starts_at": iso(listed.event_starts_at)},
        "tickets": [
            {
                "code": ticket.code,
                "status": ticket.status,
                "seat": {"label": ticket.label, "section": ticket.section, "row": ticket.row, "number": ticket.number},
                "checked_in_at": iso(ticket.checked_in_at),
                "inside": ticket.inside is not None,
                "gate": ticket.inside.gate if ticket.inside else None,
            }
            for ticket in listed.tickets
        ],
        "last_checkin_id": listed.last_checkin_id,
    }
