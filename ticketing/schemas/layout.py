"""A venue's layout: sections of rows of seats, with categories, flags and drawing positions.

The shape only; the rules that span several places (unique names and numbers, unique labels, the
seat limit) are checked by services.layouts, which also reports every problem by its path.
"""

from __future__ import annotations

import math

import marshmallow as ma
from marshmallow import fields, validate

from .common import Name, Schema

MAX_SEATS_PER_VENUE = 100_000
MAX_SECTIONS = 200
MAX_ROWS_PER_SECTION = 1_000
MAX_SEAT_NUMBER = 100_000
COORDINATE_LIMIT = 1_000_000.0
NAME_LENGTH = {"section": 40, "row": 10, "category": 40}


class Coordinate(fields.Float):
    """A drawing position: a finite number within ±1,000,000."""

    def __init__(self, **kwargs) -> None:
        super().__init__(allow_nan=False, validate=validate.Range(-COORDINATE_LIMIT, COORDINATE_LIMIT), **kwargs)


class PointSchema(Schema):
    x = Coordinate(required=True)
    y = Coordinate(required=True)


class SeatSpecSchema(Schema):
    """One seat of a row; left-out keys stay out of the stored layout (defaults apply when seats are made)."""

    number = fields.Integer(strict=True, required=True, validate=validate.Range(1, MAX_SEAT_NUMBER))
    category = Name(allow_none=True, max_length=NAME_LENGTH["category"])
    accessible = fields.Boolean()
    blocked = fields.Boolean(metadata={"description": "Events made from the venue start with this seat blocked"})
    x = Coordinate()
    y = Coordinate()


class SeatsField(fields.Field):
    """A row's seats: a count N (numbers 1..N, no category, none accessible) or a list of seat specs."""

    def __init__(self, **kwargs) -> None:
        metadata = {
            "description": "A number of seats N (numbers 1..N), or a list of seats",
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_SEATS_PER_VENUE},
                {"type": "array", "minItems": 1, "items": {"type": "object"}},
            ],
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, list)):
            raise ma.ValidationError("Give a number of seats, or a list of seats.")
        if isinstance(value, int):
            if not 1 <= value <= MAX_SEATS_PER_VENUE:
                raise ma.ValidationError(f"A row has 1 to {MAX_SEATS_PER_VENUE} seats.")
            return value
        if not value:
            raise ma.ValidationError("A row has at least one seat.")
        if len(value) > MAX_SEATS_PER_VENUE:
            raise ma.ValidationError(f"A row has at most {MAX_SEATS_PER_VENUE} seats.")
        return load_seat_specs(value)  # problems come back by index: seats[3].number


class RowSchema(Schema):
    name = Name(required=True, max_length=NAME_LENGTH["row"])
    seats = SeatsField(required=True)
    y = Coordinate(metadata={"description": "Where the row is drawn, for its seats without their own y"})


class SectionSchema(Schema):
    name = Name(
        load_default="",
        min_length=0,
        max_length=NAME_LENGTH["section"],
        metadata={"description": "Required (and unique) when the venue has several sections"},
    )
    rows = fields.List(fields.Nested(RowSchema), required=True, validate=validate.Length(1, MAX_ROWS_PER_SECTION))


class LayoutSchema(Schema):
    focal_point = fields.Nested(
        PointSchema, metadata={"description": "Where the best seats are; default: the middle of the first row"}
    )
    sections = fields.List(fields.Nested(SectionSchema), required=True, validate=validate.Length(1, MAX_SECTIONS))


# --- a fast path for long lists of seat specs --------------------------------------------------
# marshmallow takes ~40 µs a seat: 4 s for a venue of 100,000 listed seats. Plain specs (the usual
# case) are checked here in a few µs each and come out exactly as SeatSpecSchema loads them; the
# first spec that is not plainly valid sends the whole list to marshmallow, which words the problems.
# tests/unit/test_layouts.py compares the two on generated specs.

_SPEC_KEYS = frozenset(SeatSpecSchema().fields)


def load_seat_specs(value: list) -> list[dict]:
    """A row's list of seat specs, loaded as SeatSpecSchema(many=True) would (raises its errors)."""
    loaded = []
    for item in value:
        spec = _plain_spec(item)
        if spec is None:
            return SeatSpecSchema(many=True).load(value)
        loaded.append(spec)
    return loaded


def _plain_spec(item: object) -> dict | None:
    """The loaded spec when `item` is plainly valid, else None (let marshmallow say why)."""
    if type(item) is not dict:
        return None
    number = item.get("number")
    if type(number) is not int or not 1 <= number <= MAX_SEAT_NUMBER:
        return None
    spec: dict = {"number": number}
    for key, value in item.items():
        if key == "number" or key not in _SPEC_KEYS:
            continue
        if key == "category":
            if value is not None:
                value = _plain_name(value, NAME_LENGTH["category"])
                if value is None:
                    return None
        elif key in ("accessible", "blocked"):
            if type(value) is not bool:
                return None
        else:  # x, y
            if type(value) not in (int, float) or not math.isfinite(value) or abs(value) > COORDINATE_LIMIT:
                return None
            value = float(value)
        spec[key] = value
    return spec


def _plain_name(value: object, max_length: int) -> str | None:
    if type(value) is not str or len(value) > max_length or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    text = value.strip()
    return text if text else None
