"""The caller's tickets."""

from __future__ import annotations

from flask_jwt_extended import jwt_required

from ..controllers import tickets as controller
from ..schemas.tickets import TicketDetailsEnvelope, TicketDetailsListEnvelope
from .base import BEARER, Blueprint

blp = Blueprint("tickets", __name__, url_prefix="/tickets", description="The caller's tickets")


@blp.route("")
@blp.response(200, TicketDetailsListEnvelope)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
def list_tickets():
    """The caller's tickets of every event, newest purchase first (one purchase's tickets by seat)."""
    return controller.list_tickets()


@blp.route("/<code>")
@blp.response(200, TicketDetailsEnvelope)
@blp.alt_response(401, codes=["unauthorized"])
@blp.alt_response(404, codes=["ticket_not_found"], description="no such code, or another user's ticket")
@blp.doc(**BEARER)
@jwt_required()
def get_ticket(code):
    """One of the caller's tickets, by its code."""
    return controller.get_ticket(code)
