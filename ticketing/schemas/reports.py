"""Refunds, an event's cancellation, and what organizers read: report, orders, audit log."""

from __future__ import annotations

from marshmallow import fields, validate

from ..models import MAX_ID, ORDER_STATUSES
from .catalogue import EventSchema
from .common import DATE_TIME, MONEY, List, MessageSchema, QueryInteger, Schema, Text, id_field
from .orders import OrderSchema

MAX_TICKETS_PER_REFUND = 100
MAX_PAGE = 1000


class RefundBody(Schema):
    ticket_codes = List(
        Text(validate=validate.Length(min=1, max=40)),
        validate=validate.Length(min=1, max=MAX_TICKETS_PER_REFUND),
        metadata={"description": "Tickets of this order to refund; left out: every valid one"},
    )
    reason = Text(validate=validate.Length(max=200), metadata={"example": "Cannot come"})


class RefundSchema(Schema):
    id = id_field(required=True)
    amount = fields.String(required=True, metadata=MONEY)
    currency = fields.String(required=True, metadata={"example": "USD"})
    ticket_codes = fields.List(fields.String(), required=True)


class RefundResult(MessageSchema):
    order = fields.Nested(OrderSchema, required=True)
    refund = fields.Nested(RefundSchema, required=True)


class CancelResult(MessageSchema):
    event = fields.Nested(EventSchema, required=True)
    refunded_orders = fields.Integer(
        required=True, metadata={"description": "Orders of the event refunded by its cancellation (every call)"}
    )
    refunds_pending = fields.Integer(
        required=True,
        metadata={"description": "Paid orders the gateway would not refund this time: retried by the sweeper"},
    )


class SeatCounts(Schema):
    available = fields.Integer(required=True)
    locked = fields.Integer(required=True)
    booked = fields.Integer(required=True)
    blocked = fields.Integer(required=True)


class TicketCounts(Schema):
    valid = fields.Integer(required=True)
    void = fields.Integer(required=True)
    checked_in = fields.Integer(required=True)


class Revenue(Schema):
    gross = fields.String(required=True, metadata={**MONEY, "description": "Totals of the orders that were paid"})
    refunded = fields.String(required=True, metadata=MONEY)
    net = fields.String(required=True, metadata=MONEY)
    currency = fields.String(required=True)


class CategoryLine(Schema):
    category = fields.String(allow_none=True, required=True)
    price = fields.String(required=True, metadata=MONEY)
    booked = fields.Integer(required=True)
    revenue = fields.String(required=True, metadata=MONEY)


class ReportSchema(Schema):
    seats = fields.Nested(SeatCounts, required=True)
    tickets = fields.Nested(TicketCounts, required=True)
    revenue = fields.Nested(Revenue, required=True)
    by_category = fields.List(fields.Nested(CategoryLine), required=True)


class ReportEnvelope(Schema):
    report = fields.Nested(ReportSchema, required=True)


def _page_fields(what: str) -> tuple:
    limit = QueryInteger(
        load_default=100,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": f"The most {what} in one page (1 to 1000, default 100)"},
    )
    after = QueryInteger(
        validate=validate.Range(min=0, max=MAX_ID),
        metadata={"description": f"The {what} after this id (the `next_after` of a page)"},
    )
    return limit, after


class EventOrdersQuery(Schema):
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    limit, after = _page_fields("orders")


class BuyerSchema(Schema):
    id = id_field(required=True)
    email = fields.String(required=True)


class EventOrderSchema(OrderSchema):
    buyer = fields.Nested(BuyerSchema, required=True)


class EventOrdersEnvelope(Schema):
    orders = fields.List(fields.Nested(EventOrderSchema), required=True)
    next_after = fields.Integer(allow_none=True, required=True, metadata={"description": "null on the last page"})


class AuditQuery(Schema):
    limit, after = _page_fields("entries")


class AuditEntrySchema(Schema):
    id = id_field(required=True)
    at = fields.String(required=True, metadata=DATE_TIME)
    user_id = fields.Integer(allow_none=True, required=True, metadata={"description": "null: the system"})
    action = fields.String(required=True, metadata={"example": "order.refund"})
    details = fields.Dict(required=True)


class AuditEnvelope(Schema):
    entries = fields.List(fields.Nested(AuditEntrySchema), required=True)
    next_after = fields.Integer(allow_none=True, required=True, metadata={"description": "null on the last page"})
