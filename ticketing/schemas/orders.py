"""Orders and payments."""

from __future__ import annotations

from marshmallow import fields, validate

from ..models import ORDER_STATUSES, TICKET_STATUSES
from .booking import TicketSchema
from .common import DATE_TIME, MONEY, List, MessageSchema, Schema, Text, id_field

MAX_SEATS_PER_ORDER = 100


class CreateOrderSchema(Schema):
    seat_ids = List(
        id_field(),
        required=True,
        validate=validate.Length(min=1, max=MAX_SEATS_PER_ORDER),
        metadata={"description": "Seats of one event, each at most once"},
    )


class PayOrderSchema(Schema):
    payment_token = Text(
        validate=validate.Length(min=1, max=255),
        metadata={
            "description": "Required unless the order's total is 0.00. Test gateway: tok_visa, "
            "tok_chargeDeclined, tok_processingError",
            "example": "tok_visa",
        },
    )


class IdempotencyHeaders(Schema):
    idempotency_key = Text(
        data_key="Idempotency-Key",
        validate=validate.Length(min=1, max=255),
        metadata={"description": "A repeated request with the same key answers as the first and charges nothing"},
    )


class OrderTicketSchema(TicketSchema):
    status = fields.String(
        required=True, validate=validate.OneOf(TICKET_STATUSES), metadata={"description": "void once refunded"}
    )


class OrderSchema(Schema):
    id = id_field(required=True)
    event_id = id_field(required=True)
    status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    seat_ids = fields.List(id_field(), required=True)
    total = fields.String(required=True, metadata=MONEY)
    currency = fields.String(required=True, metadata={"example": "USD"})
    expires_at = fields.String(required=True, metadata=DATE_TIME)
    created_at = fields.String(required=True, metadata=DATE_TIME)
    tickets = fields.List(fields.Nested(OrderTicketSchema), required=True)
    refunded_total = fields.String(
        required=True, metadata={**MONEY, "description": "Money given back so far (refunds that succeeded)"}
    )


class OrderEnvelope(Schema):
    order = fields.Nested(OrderSchema, required=True)


class OrderResult(MessageSchema):
    order = fields.Nested(OrderSchema, required=True)


class OrderListEnvelope(Schema):
    orders = fields.List(fields.Nested(OrderSchema), required=True)
