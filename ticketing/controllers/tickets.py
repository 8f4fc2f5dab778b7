"""The token's user's tickets."""

from __future__ import annotations

import io

import segno
from flask import Response

from ..errors import TicketNotFoundError
from ..security import current_user_id
from ..services import tickets as ticket_service
from .presenters import ticket_details_json


def list_tickets() -> dict:
    return {"tickets": [ticket_details_json(t) for t in ticket_service.list_tickets(user_id=current_user_id())]}


def get_ticket(code: str) -> dict:
    ticket = ticket_service.get_ticket(code=code, viewer_id=current_user_id())
    if ticket is None:
        raise TicketNotFoundError()
    return {"ticket": ticket_details_json(ticket)}


def ticket_qr(code: str) -> Response:
    """The ticket's code as a QR code (SVG): black on white, with the quiet zone scanners need."""
    ticket = ticket_service.get_ticket(code=code, viewer_id=current_user_id())
    if ticket is None:
        raise TicketNotFoundError()
    image = io.BytesIO()
    segno.make(ticket.code, error="m").save(
        image, kind="svg", scale=8, border=4, xmldecl=False, title=f"Ticket {ticket.code}"
    )
    response = Response(image.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=3600"  # a code never changes; who may see it might
    return response
