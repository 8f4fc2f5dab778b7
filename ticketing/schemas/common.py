"""Schemas shared by several routes."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..models import MAX_ID

DATE_TIME = {"format": "date-time", "example": "2026-11-20T21:00:00.000Z"}
MONEY = {"example": "25.00", "pattern": r"^-?\d+\.\d{2}$"}


def _plain_text(value: str) -> None:
    # JSON may carry "\u0000" or a lone "\ud800"; neither can be hashed or stored in PostgreSQL.
    if "\x00" in value:
        raise ma.ValidationError("Must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ma.ValidationError("Must be valid Unicode text.") from None


class Text(fields.String):
    """A string of valid Unicode without NUL characters."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        _plain_text(text)
        return text


class Email(fields.Email):
    """An email address; surrounding spaces (a paste) are dropped before it is checked."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip()
        email = super()._deserialize(value, attr, data, **kwargs)
        _plain_text(email)
        return email


def id_field(**kwargs) -> fields.Integer:
    """An id a client sends: a positive integer that fits a 64-bit column."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class Schema(ma.Schema):
    """Unknown fields in a request are ignored, as most JSON APIs do."""

    class Meta:
        unknown = ma.EXCLUDE


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"example": "seat_locked"})
    message = fields.String(required=True)
    details = fields.Dict(
        keys=fields.String(),
        # Problems are sentences; `seats_unavailable` lists seat ids under `unavailable`.
        values=fields.List(fields.Raw(metadata={"anyOf": [{"type": "string"}, {"type": "integer"}]})),
        metadata={
            "description": "Validation errors: field -> list of problems; "
            "seats_unavailable: `unavailable` -> the seat ids that cannot be had"
        },
    )


class MessageSchema(Schema):
    message = fields.String(required=True)


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
