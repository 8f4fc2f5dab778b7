"""What an event's managers read: report, attendees (CSV), orders with their buyers, audit log."""

from __future__ import annotations

from flask_jwt_extended import jwt_required

from ..controllers import reports as controller
from ..schemas.reports import AuditEnvelope, AuditQuery, EventOrdersEnvelope, EventOrdersQuery, ReportEnvelope
from .base import BEARER, Blueprint

blp = Blueprint("reports", __name__, url_prefix="/events", description="Reports of events (managers)")

FORBIDDEN = "not a manager of the event's organization"
NOT_FOUND = "also a draft of an organization the caller is not in"


@blp.route("/<id:event_id>/report")
@blp.response(200, ReportEnvelope)
@blp.alt_response(403, codes=["forbidden"], description=FORBIDDEN)
@blp.alt_response(404, codes=["event_not_found"], description=NOT_FOUND)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
def event_report(event_id):
    """Seats by state, tickets, money in and refunded, sales by category: counted in one snapshot."""
    return controller.report(event_id)


@blp.route("/<id:event_id>/attendees.csv")
@blp.response(
    200,
    description="text/csv, streamed: ticket_code,seat,section,row,number,category,price,order_id,buyer_email,"
    "status,checked_in_at (every ticket, void ones too, by seat)",
    content_type="text/csv",
)
@blp.alt_response(403, codes=["forbidden"], description=FORBIDDEN)
@blp.alt_response(404, codes=["event_not_found"], description=NOT_FOUND)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
def attendees_csv(event_id):
    """Every ticket of the event as CSV, streamed (memory does not grow with the event)."""
    return controller.attendees_csv(event_id)


@blp.route("/<id:event_id>/orders")
@blp.arguments(EventOrdersQuery, location="query")
@blp.response(200, EventOrdersEnvelope)
@blp.alt_response(403, codes=["forbidden"], description=FORBIDDEN)
@blp.alt_response(404, codes=["event_not_found"], description=NOT_FOUND)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
def event_orders(query, event_id):
    """The event's orders with their buyers, oldest first, in keyset pages (`after` = `next_after`)."""
    return controller.event_orders(event_id, query)


@blp.route("/<id:event_id>/audit")
@blp.arguments(AuditQuery, location="query")
@blp.response(200, AuditEnvelope)
@blp.alt_response(403, codes=["forbidden"], description=FORBIDDEN)
@blp.alt_response(404, codes=["event_not_found"], description=NOT_FOUND)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
def event_audit(query, event_id):
    """The event's audit log, oldest first: every organizer action on it and every refund (who, when, what)."""
    return controller.audit_log(event_id, query)
