"""Events made by organizers: create, edit, publish, close, block and unblock seats."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from .catalogue import EventSchema
from .common import List, MessageSchema, Money, Name, Schema, StrictBoolean, Text, UtcDateTime, id_field

MAX_CATEGORIES = 100
MAX_SEATS_PER_BLOCK = 10_000


class CategoryBody(Schema):
    name = Name(required=True, max_length=40, metadata={"example": "Stalls"})
    price = Money(required=True)


class NewEventBody(Schema):
    name = Name(required=True, max_length=200, metadata={"example": "Hamlet"})
    venue_id = id_field(required=True)
    starts_at = UtcDateTime(required=True, metadata={"description": "In the future"})
    currency = fields.String(
        load_default="USD", validate=validate.Regexp(r"^[A-Za-z]{3}$"), metadata={"example": "EUR"}
    )
    categories = List(
        fields.Nested(CategoryBody),
        load_default=list,
        validate=validate.Length(max=MAX_CATEGORIES),
        metadata={"description": "A price for every category the venue's layout uses, and no other"},
    )
    default_price = Money(allow_none=True, metadata={"description": "The price of seats without a category"})
    sales_start = UtcDateTime(allow_none=True)
    sales_end = UtcDateTime(allow_none=True)
    no_orphan_seats = StrictBoolean(load_default=False)
    buyer_refunds_until = UtcDateTime(allow_none=True)

    @ma.post_load
    def _upper_currency(self, data: dict, **_kwargs) -> dict:
        data["currency"] = data["currency"].upper()
        return data


class EventChangesBody(Schema):
    """Only the fields sent change; null clears an optional time."""

    name = Name(max_length=200)
    starts_at = UtcDateTime(metadata={"description": "In the future"})
    sales_start = UtcDateTime(allow_none=True)
    sales_end = UtcDateTime(allow_none=True)
    no_orphan_seats = StrictBoolean()
    buyer_refunds_until = UtcDateTime(allow_none=True)


class EventResult(MessageSchema):
    event = fields.Nested(EventSchema, required=True)


class SeatIdsBody(Schema):
    seat_ids = List(
        id_field(),
        required=True,
        validate=validate.Length(min=1, max=MAX_SEATS_PER_BLOCK),
        metadata={"description": "Seats of this event, each at most once"},
    )


class BlockBody(SeatIdsBody):
    reason = Text(validate=validate.Length(max=200), metadata={"example": "Camera position"})


class BlockResult(MessageSchema):
    blocked = fields.List(id_field(), required=True)


class UnblockResult(MessageSchema):
    unblocked = fields.List(id_field(), required=True)
