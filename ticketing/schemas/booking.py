"""Locking and confirming seats."""

from __future__ import annotations

from marshmallow import fields, validate

from .catalogue import SeatSchema
from .common import DATE_TIME, Integer, MessageSchema, Schema, StrictBoolean, Text, id_field


class TicketSchema(Schema):
    code = fields.String(required=True)
    seat_id = id_field(required=True)
    label = fields.String(required=True)


class LockResult(MessageSchema):
    seat = fields.Nested(SeatSchema, required=True)
    lock_expires_at = fields.String(required=True, metadata=DATE_TIME)


class ConfirmResult(MessageSchema):
    seat = fields.Nested(SeatSchema, required=True)
    ticket = fields.Nested(TicketSchema, required=True)


class ReleaseResult(MessageSchema):
    seat = fields.Nested(SeatSchema, required=True)


class SeatIdBody(Schema):
    """The seed-compatible body of `POST /lock` and `POST /confirm`."""

    seatId = id_field(required=True)  # noqa: N815 - the seeds' spelling
    userId = fields.Raw(  # noqa: N815
        metadata={"description": "Optional; when given it must be the token's user id"}
    )


class BestAvailableBody(Schema):
    """What a buyer asks of best available."""

    count = Integer(required=True, metadata={"description": "How many seats (1..MAX_SEATS_PER_USER)", "example": 2})
    category = Text(allow_none=True, validate=validate.Length(1, 40), metadata={"example": "Premium"})
    section = Text(allow_none=True, validate=validate.Length(0, 40), metadata={"example": "Stalls"})
    accessible = Integer(
        load_default=0,
        validate=validate.Range(min=0),
        metadata={"description": "How many of the seats must be accessible (wheelchair places)"},
    )
    together = StrictBoolean(
        load_default=True,
        metadata={"description": "false: when no block of adjacent seats is free, the nearest seats apart"},
    )


class BestAvailableResult(MessageSchema):
    seats = fields.List(fields.Nested(SeatSchema), required=True)
    lock_expires_at = fields.String(required=True, metadata=DATE_TIME)
