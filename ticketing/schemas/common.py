"""Schemas shared by several routes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

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


class Name(Text):
    """A name someone types (an organization, a venue, a row): surrounding blanks are dropped.

    The length is checked on the text as sent and again without the blanks, so that no text the
    OpenAPI document rules out (longer than `max_length`) is ever taken.
    """

    def __init__(self, *, max_length: int, min_length: int = 1, **kwargs) -> None:
        self.max_length = max_length
        super().__init__(validate=validate.Length(min_length, max_length), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > self.max_length:
            raise ma.ValidationError(f"Longer than maximum length {self.max_length}.")
        return text.strip()


MAX_PRICE_CENTS = 100_000_000  # 1,000,000.00 in any currency: far above any seat's price


class Money(fields.Field):
    """A price: a decimal string ("25.00", "25") or a JSON number; zero or more, at most two decimals.

    Loads as whole cents. NaN, infinities, negatives and a third decimal are refused, never rounded.
    """

    def __init__(self, **kwargs) -> None:
        metadata = {"anyOf": [{"type": "string"}, {"type": "number"}], "example": "25.00", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or len(str(value)) > 32:
            raise ma.ValidationError('Give a price such as "25.00".')
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise ma.ValidationError('Give a price such as "25.00".') from None
        if not amount.is_finite():
            raise ma.ValidationError("A price is a finite number.")
        if amount < 0:
            raise ma.ValidationError("A price cannot be negative.")
        if amount > Decimal(MAX_PRICE_CENTS) / 100:  # before quantize, which fails on huge numbers
            raise ma.ValidationError("A price is at most 1000000.00.")
        if amount != amount.quantize(Decimal("0.01")):
            raise ma.ValidationError("A price has at most two decimals.")
        cents = int(amount * 100)
        return cents


class UtcDateTime(fields.String):
    """An ISO 8601 time; one with an offset is converted to UTC, one without is taken as UTC.

    Loads as a naive UTC datetime, the form every timestamp column stores.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(metadata={**DATE_TIME, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise ma.ValidationError("Give an ISO 8601 time such as 2027-05-01T19:30:00Z.")
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ma.ValidationError("Give an ISO 8601 time such as 2027-05-01T19:30:00Z.") from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        if not 2000 <= moment.year <= 9000:
            raise ma.ValidationError("Give a time between the years 2000 and 9000.")
        return moment


class StrictBoolean(fields.Boolean):
    """JSON true or false only (marshmallow's Boolean would also take "yes", 1, "on")."""

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        if type(value) is not bool:
            raise ma.ValidationError("Must be true or false.")
        return value


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
        # Problems are sentences; `seats_unavailable` lists seat ids under `unavailable`;
        # `already_checked_in` says when and where the admission was (two strings).
        values=fields.Raw(
            metadata={
                "anyOf": [
                    {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    {"type": "string"},
                ]
            }
        ),
        metadata={
            "description": "Validation errors: field -> list of problems; "
            "seats_unavailable: `unavailable` -> the seat ids that cannot be had; "
            "already_checked_in: `checked_in_at` and `gate` of the admission"
        },
    )


class MessageSchema(Schema):
    message = fields.String(required=True)


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
