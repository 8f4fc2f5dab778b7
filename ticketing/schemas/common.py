"""Schemas shared by several routes."""

from __future__ import annotations

import re

import marshmallow as ma
from marshmallow import fields, validate

from ..models import MAX_ID, normalise_email

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


class EmailText(Text):
    """An email as typed at login: normalised as accounts store it, then checked (not for its format:
    a malformed one simply matches no account)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return normalise_email(super()._deserialize(value, attr, data, **kwargs))


class Email(fields.Email):
    """An email address, normalised as accounts store it (no surrounding spaces, lower case) BEFORE
    it is checked: lower-casing may lengthen it, and the length and format checks must see what
    will be stored."""

    def _deserialize(self, value, attr, data, **kwargs):
        email = super()._deserialize(value, attr, data, **kwargs)
        _plain_text(email)
        return normalise_email(email)


class Integer(fields.Integer):
    """A whole number sent as a JSON integer: 1.5, 1.0, 1e3, true and "1" are refused, never truncated
    or converted (a seat id of 1001.9 must not lock seat 1001)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)


class QueryInteger(fields.Integer):
    """A whole number in a query string: ASCII digits only (no sign, spaces, "1_000", "1.0" or other
    scripts' digits, all of which int() would take), and not so many that int() refuses them."""

    _DIGITS = re.compile(r"[0-9]{1,30}")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not self._DIGITS.fullmatch(value):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class List(fields.List):
    """A list whose length is checked before its items: a megabyte of bad items is one problem, not
    a problem per item (and an answer many times the request's size)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list):
            for validator in self.validators:
                if isinstance(validator, validate.Length):
                    validator(value)
        return super()._deserialize(value, attr, data, **kwargs)


def id_field(**kwargs) -> Integer:
    """An id in a JSON body or an answer: a positive JSON integer that fits a 64-bit column."""
    return Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def query_id_field(**kwargs) -> QueryInteger:
    """An id in a query string: positive digits that fit a 64-bit column."""
    return QueryInteger(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


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
