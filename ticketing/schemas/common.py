"""Schemas shared by several routes."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..models import MAX_ID

DATE_TIME = {"format": "date-time", "example": "2026-11-20T21:00:00.000Z"}
MONEY = {"example": "25.00", "pattern": r"^-?\d+\.\d{2}$"}


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
        values=fields.List(fields.String()),
        metadata={"description": "Validation errors: field -> list of problems"},
    )


class MessageSchema(Schema):
    message = fields.String(required=True)


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
