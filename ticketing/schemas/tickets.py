"""Tickets as their holders see them."""

from __future__ import annotations

from marshmallow import fields, validate

from ..models import TICKET_STATUSES
from .common import DATE_TIME, MONEY, Schema, id_field


class TicketSeatSchema(Schema):
    id = id_field(required=True)
    label = fields.String(required=True, metadata={"example": "B12"})
    section = fields.String(required=True, metadata={"description": '"" when the venue has no sections'})
    row = fields.String(required=True, metadata={"example": "B"})
    number = fields.Integer(required=True, metadata={"example": 12})


class TicketEventSchema(Schema):
    id = id_field(required=True)
    name = fields.String(required=True)
    starts_at = fields.String(required=True, allow_none=True, metadata=DATE_TIME)


class TicketDetailsSchema(Schema):
    code = fields.String(required=True, metadata={"example": "Xq3v0b3k2mS8Hq9cT1d0Zw"})
    status = fields.String(
        required=True,
        validate=validate.OneOf(TICKET_STATUSES),
        metadata={"description": "valid: it admits; void: refunded or the event cancelled"},
    )
    seat = fields.Nested(TicketSeatSchema, required=True)
    event = fields.Nested(TicketEventSchema, required=True)
    order_id = id_field(required=True, allow_none=True, metadata={"description": "null for a confirmed free seat"})
    price = fields.String(required=True, metadata=MONEY)
    checked_in = fields.Boolean(required=True)
    checked_in_at = fields.String(required=True, allow_none=True, metadata=DATE_TIME)


class TicketDetailsEnvelope(Schema):
    ticket = fields.Nested(TicketDetailsSchema, required=True)


class TicketDetailsListEnvelope(Schema):
    tickets = fields.List(fields.Nested(TicketDetailsSchema), required=True)
