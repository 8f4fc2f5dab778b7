"""The token's user's tickets."""

from __future__ import annotations

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
