"""Venues and their layouts."""

from __future__ import annotations

from marshmallow import fields

from .common import MessageSchema, Name, Schema, id_field

LAYOUT_DESCRIPTION = (
    '{"focal_point": {x, y}?, "sections": [{"name", "rows": [{"name", "seats": N | [seat spec, ...], "y"?}]}]}; '
    'a seat spec is {"number", "category"?, "accessible"?, "blocked"?, "x"?, "y"?} (see the Layout schema). '
    'Problems are reported by their path from the layout\'s root, e.g. "sections[1].rows[0].seats".'
)


class VenueBody(Schema):
    name = Name(required=True, max_length=200, metadata={"example": "Main hall"})
    # Checked by services.layouts (schemas/layout.py), which names each problem's place in the layout.
    layout = fields.Dict(required=True, metadata={"description": LAYOUT_DESCRIPTION})


class VenueSchema(Schema):
    id = id_field(required=True)
    organization_id = id_field(required=True)
    name = fields.String(required=True)
    seat_count = fields.Integer(required=True)
    layout = fields.Dict(required=True, metadata={"description": "The layout as stored (focal point filled in)"})


class VenueResult(MessageSchema):
    venue = fields.Nested(VenueSchema, required=True)


class VenueEnvelope(Schema):
    venue = fields.Nested(VenueSchema, required=True)


class VenueListEnvelope(Schema):
    venues = fields.List(fields.Nested(VenueSchema), required=True)
