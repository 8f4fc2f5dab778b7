"""The caller's tickets."""

from __future__ import annotations

from flask_jwt_extended import jwt_required

from ..controllers import tickets as controller
from ..schemas.tickets import TicketDetailsEnvelope, TicketDetailsListEnvelope
from .base import BEARER, Blueprint

blp = Blueprint("tickets", __name__, url_prefix="/tickets", description="The caller's tickets")

NOT_YOURS = "no such code, or a ticket neither the caller's nor of an event they are staff of"


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
@blp.alt_response(404, codes=["ticket_not_found"], description=NOT_YOURS)
@blp.doc(**BEARER)
@jwt_required()
def get_ticket(code):
    """One ticket by its code, for its holder or the staff of the event's organization."""
    return controller.get_ticket(code)


@blp.route("/<code>/qr.svg")
@blp.response(
    200,
    {"type": "string"},
    content_type="image/svg+xml",
    description="An SVG image: a QR code holding the ticket's code",
)
@blp.alt_response(401, codes=["unauthorized"])
@blp.alt_response(404, codes=["ticket_not_found"], description=NOT_YOURS)
@blp.doc(**BEARER)
@jwt_required()
def ticket_qr(code):
    """The ticket's QR code (what the door scans), for its holder or the event's staff."""
    return controller.ticket_qr(code)
