"""The door: a scan in, its answer out, the event's scans page by page, the list a door takes offline."""

from __future__ import annotations

from marshmallow import fields, validate

from ..models import CHECKIN_RESULTS, CHECKIN_TYPES, ENTRY, MAX_ID, TICKET_STATUSES
from .common import DATE_TIME, MessageSchema, Name, QueryInteger, Schema, StrictBoolean, Text, UtcDateTime, id_field
from .tickets import TicketDetailsSchema, TicketEventSchema

MAX_CHECKINS_PER_PAGE = 1000


class CheckinBody(Schema):
    code = Text(
        required=True,
        validate=validate.Length(1, 200),
        metadata={"description": "The code as scanned or typed (an unknown one is recorded and refused)"},
    )
    nonce = Text(
        required=True,
        validate=validate.Length(1, 64),
        metadata={"description": "The door's own id for this scan: sent again, it gets the first answer again"},
    )
    type = fields.String(load_default=ENTRY, validate=validate.OneOf(CHECKIN_TYPES))
    gate = Name(max_length=40, min_length=0, load_default="", metadata={"example": "North 2"})
    scanned_at = UtcDateTime(metadata={"description": "When the door scanned (for a forced upload); default now"})
    force = StrictBoolean(
        load_default=False,
        metadata={"description": "An upload of a scan the door decided offline: recorded as forced, answered 201"},
    )


class CheckinSchema(Schema):
    id = id_field(required=True)
    event_id = id_field(required=True)
    code = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(CHECKIN_TYPES))
    result = fields.String(required=True, validate=validate.OneOf(CHECKIN_RESULTS))
    gate = fields.String(required=True)
    forced = fields.Boolean(required=True)
    scanned_at = fields.String(required=True, metadata=DATE_TIME)
    recorded_at = fields.String(required=True, metadata=DATE_TIME)
    user_id = id_field(required=True, allow_none=True, metadata={"description": "who scanned"})


class CheckinResult(MessageSchema):
    result = fields.String(
        required=True,
        validate=validate.OneOf(CHECKIN_RESULTS),
        metadata={"description": "admitted or exited; a forced upload: also what a refusal would have been"},
    )
    ticket = fields.Nested(
        TicketDetailsSchema, required=True, allow_none=True, metadata={"description": "null: a forced unknown code"}
    )
    checkin = fields.Nested(CheckinSchema, required=True)


class CheckinsQuery(Schema):
    after = QueryInteger(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_ID),
        metadata={"description": "The scans recorded after this one (the `next_after` of a page)"},
    )
    limit = QueryInteger(
        load_default=100,
        validate=validate.Range(min=1, max=MAX_CHECKINS_PER_PAGE),
        metadata={"description": "The most scans in one page (1 to 1000, default 100)"},
    )


class CheckinListEnvelope(Schema):
    checkins = fields.List(fields.Nested(CheckinSchema), required=True)
    next_after = fields.Integer(
        required=True, allow_none=True, metadata={"description": "send it as `after` for the next page; null: last"}
    )


class DoorSeatSchema(Schema):
    label = fields.String(required=True)
    section = fields.String(required=True)
    row = fields.String(required=True)
    number = fields.Integer(required=True)


class DoorTicketSchema(Schema):
    code = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(TICKET_STATUSES))
    seat = fields.Nested(DoorSeatSchema, required=True)
    checked_in_at = fields.String(required=True, allow_none=True, metadata=DATE_TIME)
    inside = fields.Boolean(required=True)
    gate = fields.String(required=True, allow_none=True, metadata={"description": "where it came in, while inside"})


class DoorListEnvelope(Schema):
    event = fields.Nested(TicketEventSchema, required=True)
    tickets = fields.List(fields.Nested(DoorTicketSchema), required=True)
    last_checkin_id = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "send it as `after` to GET /events/{event_id}/checkins for the scans since"},
    )
