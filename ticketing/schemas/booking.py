"""Locking and confirming seats."""

from __future__ import annotations

from marshmallow import fields

from .catalogue import SeatSchema
from .common import DATE_TIME, MessageSchema, Schema, id_field


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
