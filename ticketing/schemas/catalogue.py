"""Events and seats."""

from __future__ import annotations

from marshmallow import fields, validate

from ..models import EVENT_STATUSES, MAX_ID, SEAT_STATUSES
from .common import DATE_TIME, MONEY, QueryInteger, Schema, id_field, query_id_field


class CategorySchema(Schema):
    name = fields.String(required=True, metadata={"example": "Stalls"})
    price = fields.String(required=True, metadata=MONEY)


class PointSchema(Schema):
    x = fields.Float(required=True, metadata={"example": 13.5})
    y = fields.Float(required=True, metadata={"example": 4})


class EventSchema(Schema):
    id = id_field(required=True)
    name = fields.String(required=True)
    starts_at = fields.String(allow_none=True, metadata=DATE_TIME)
    currency = fields.String(required=True, metadata={"example": "USD"})
    seat_count = fields.Integer(required=True)
    available = fields.Integer(required=True)
    locked = fields.Integer(required=True)
    booked = fields.Integer(required=True)
    blocked = fields.Integer(required=True, metadata={"description": "Seats the organizer took off sale"})
    status = fields.String(
        required=True,
        validate=validate.OneOf(EVENT_STATUSES),
        metadata={"description": "Buyers see on_sale, closed and cancelled events; drafts only their organization"},
    )
    sales_start = fields.String(allow_none=True, metadata={**DATE_TIME, "description": "Holds and orders from then"})
    sales_end = fields.String(allow_none=True, metadata={**DATE_TIME, "description": "Holds and orders until then"})
    venue_id = id_field(allow_none=True, required=True)
    organization_id = id_field(allow_none=True, required=True)
    categories = fields.List(fields.Nested(CategorySchema), required=True)
    no_orphan_seats = fields.Boolean(required=True)
    buyer_refunds_until = fields.String(allow_none=True, metadata=DATE_TIME)
    focal_point = fields.Nested(
        PointSchema,
        allow_none=True,
        required=True,
        metadata={
            "description": "Where the venue's best seats are, in the seats' x/y (its layout's focal point); "
            "null for an event without a venue"
        },
    )


class EventEnvelope(Schema):
    event = fields.Nested(EventSchema, required=True)


class EventListEnvelope(Schema):
    events = fields.List(fields.Nested(EventSchema), required=True)


class SeatSchema(Schema):
    id = id_field(required=True)
    event_id = id_field(required=True)
    label = fields.String(required=True, metadata={"example": "A6"})
    row = fields.String(required=True, metadata={"example": "A"})
    number = fields.Integer(required=True, metadata={"example": 6})
    price = fields.String(required=True, metadata=MONEY)
    status = fields.String(required=True, validate=validate.OneOf(SEAT_STATUSES))
    is_taken = fields.Boolean(
        required=True,
        metadata={
            "description": "True while the seat is in a live checkout (a pending order) or booked; "
            "a plain lock leaves it false"
        },
    )
    section = fields.String(required=True, metadata={"description": '"" when the venue has no sections'})
    category = fields.String(required=True, allow_none=True, metadata={"example": "Stalls"})
    accessible = fields.Boolean(required=True)
    # Raw, not Float: an answer keeps 12 as 12 (the seat map, built without marshmallow, does the same).
    x = fields.Raw(
        required=True,
        allow_none=True,
        metadata={"type": "number", "nullable": True, "description": "Where the layout draws the seat"},
    )
    y = fields.Raw(required=True, allow_none=True, metadata={"type": "number", "nullable": True})
    locked_by_me = fields.Boolean(metadata={"description": "Present (true) when the caller holds the lock"})
    lock_expires_at = fields.String(metadata={**DATE_TIME, "description": "Present when the caller holds the lock"})


class SeatEnvelope(Schema):
    seat = fields.Nested(SeatSchema, required=True)


class EventSeatsEnvelope(Schema):
    event_id = id_field(required=True)
    seats = fields.List(fields.Nested(SeatSchema), required=True)


class SeatListEnvelope(Schema):
    seats = fields.List(fields.Nested(SeatSchema), required=True)
    next_after = fields.Integer(
        allow_none=True,
        metadata={
            "description": "Without `event_id` only: send it as `after` for the next page; null on the last page"
        },
    )


class StatusQuery(Schema):
    status = fields.String(validate=validate.OneOf(SEAT_STATUSES))


MAX_SEATS_PER_PAGE = 1000


class SeatsQuery(StatusQuery):
    event_id = query_id_field(metadata={"description": "Only this event's seats, all of them (no pages)"})
    limit = QueryInteger(
        load_default=MAX_SEATS_PER_PAGE,
        validate=validate.Range(min=1, max=MAX_SEATS_PER_PAGE),
        metadata={"description": "Without `event_id`: the most seats in one page (1 to 1000, default 1000)"},
    )
    after = QueryInteger(
        validate=validate.Range(min=0, max=MAX_ID),
        metadata={"description": "Without `event_id`: the seats after this seat id (the `next_after` of a page)"},
    )


class ChangesQuery(Schema):
    since = QueryInteger(
        validate=validate.Range(min=0, max=MAX_ID),
        metadata={"description": "A cursor from an earlier answer; left out: the current cursor and no changes."},
    )
    wait = fields.Float(
        load_default=0,
        validate=validate.Range(min=0, max=25),
        metadata={"description": "Seconds to hold the request open until a change arrives (0 to 25)."},
    )


class SeatChangeSchema(Schema):
    seat_id = id_field(required=True)
    status = fields.String(required=True, validate=validate.OneOf(SEAT_STATUSES))


class ChangesEnvelope(Schema):
    cursor = fields.Integer(required=True, metadata={"description": "Send it back as `since` for the next changes."})
    changes = fields.List(fields.Nested(SeatChangeSchema), required=True)
