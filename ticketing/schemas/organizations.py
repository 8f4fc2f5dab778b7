"""Organizations, their members, and the caller's organizations."""

from __future__ import annotations

from marshmallow import fields, validate

from ..models import ROLES
from .common import Email, MessageSchema, Name, Schema, id_field


class OrganizationBody(Schema):
    name = Name(required=True, max_length=200, metadata={"example": "Théâtre du Nord"})


class OrganizationSchema(Schema):
    id = id_field(required=True)
    name = fields.String(required=True)


class MyOrganizationSchema(OrganizationSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class OrganizationResult(MessageSchema):
    organization = fields.Nested(OrganizationSchema, required=True)


class OrganizationListEnvelope(Schema):
    organizations = fields.List(fields.Nested(MyOrganizationSchema), required=True)


class MemberBody(Schema):
    email = Email(required=True, validate=validate.Length(max=254))
    role = fields.String(
        required=True,
        validate=validate.OneOf(ROLES),
        metadata={"description": "owner (members) > manager (venues, events, seats) > door (check-in)"},
    )


class MemberSchema(Schema):
    user_id = id_field(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class MemberResult(MessageSchema):
    member = fields.Nested(MemberSchema, required=True)


class MemberListEnvelope(Schema):
    members = fields.List(fields.Nested(MemberSchema), required=True)
