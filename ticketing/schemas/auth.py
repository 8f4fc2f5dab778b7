"""Accounts and tokens."""

from __future__ import annotations

from marshmallow import fields, validate

from ..models import EMAIL_MAX_LENGTH
from .common import Email, EmailText, MessageSchema, Schema, Text, id_field


class RegisterSchema(Schema):
    email = Email(required=True, validate=validate.Length(max=EMAIL_MAX_LENGTH))
    password = Text(required=True, load_only=True, validate=validate.Length(min=8, max=1024))
    name = Text(load_default=None, allow_none=True, validate=validate.Length(max=100))


class LoginSchema(Schema):
    email = EmailText(required=True, validate=validate.Length(max=EMAIL_MAX_LENGTH))
    password = Text(required=True, load_only=True, validate=validate.Length(max=1024))


class UserSchema(Schema):
    id = id_field(required=True)
    email = fields.String(required=True)
    name = fields.String(allow_none=True)


class MembershipSchema(Schema):
    id = id_field(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"description": "owner, manager or door"})


class UserWithRoleSchema(UserSchema):
    is_admin = fields.Boolean(required=True)


class UserEnvelope(MessageSchema):
    user = fields.Nested(UserSchema, required=True)


class MeEnvelope(Schema):
    user = fields.Nested(UserWithRoleSchema, required=True)
    organizations = fields.List(
        fields.Nested(MembershipSchema), required=True, metadata={"description": "The caller's organizations and roles"}
    )


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String()
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds the access token lives"})
