"""Every field a route reads from a client follows the input rules, whatever route adds it later.

- An integer in a JSON body is a JSON integer (strict): 1.5, 1.0, true and "1" are refused, not truncated.
- An integer in a query string or a header is ASCII digits (QueryInteger), not whatever int() takes.
- A list with a length limit checks it before reading its items.
- An email is normalised before it is checked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from marshmallow import Schema, fields, validate

from ticketing import create_app
from ticketing.schemas.common import Email, EmailText, Integer, List, QueryInteger


def _route_arguments() -> list[tuple[str, str, type[Schema]]]:
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://", "JWT_SECRET_KEY": "k" * 40})
    found = []
    for endpoint, view in app.view_functions.items():
        for argument in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
            found.append((endpoint, argument["in"], argument["schema"]))
    return found


ARGUMENTS = _route_arguments()


def _fields(schema: Schema | type[Schema], prefix: str = "") -> Iterator[tuple[str, fields.Field]]:
    instance = schema() if isinstance(schema, type) else schema
    for name, field in instance.fields.items():
        yield from _walk(field, f"{prefix}{name}")


def _walk(field: fields.Field, name: str) -> Iterator[tuple[str, fields.Field]]:
    yield name, field
    if isinstance(field, fields.List):
        yield from _walk(field.inner, f"{name}[]")
    elif isinstance(field, fields.Nested):
        yield from _fields(field.schema, f"{name}.")


def test_routes_with_input_are_found():
    locations = {location for _endpoint, location, _schema in ARGUMENTS}
    assert {"json", "query", "headers"} <= locations


@pytest.mark.parametrize(("endpoint", "location", "schema"), ARGUMENTS, ids=[a[0] + "-" + a[1] for a in ARGUMENTS])
def test_input_fields_follow_the_rules(endpoint, location, schema):
    for name, field in _fields(schema):
        if isinstance(field, fields.Integer):
            expected = Integer if location == "json" else QueryInteger
            assert isinstance(field, expected), f"{endpoint} {location} {name}: use {expected.__name__}"
        if isinstance(field, fields.List) and any(isinstance(v, validate.Length) for v in field.validators):
            assert isinstance(field, List), f"{endpoint} {name}: use schemas.common.List"
        if "email" in name.lower():
            assert isinstance(field, (Email, EmailText)), f"{endpoint} {name}: an email must be normalised first"
        if isinstance(field, fields.Float):
            assert not field.allow_nan, f"{endpoint} {name}: NaN and infinity are not numbers a client means"


@pytest.mark.parametrize("value", [1.5, 1.0, True, "1", None])
def test_a_json_integer_refuses_what_is_not_one(value):
    problems = Schema.from_dict({"n": Integer(required=True)})().validate({"n": value})
    assert "n" in problems


@pytest.mark.parametrize("raw", ["1.5", "+1", " 1", "1_0", "\u0661", "\uff11", "1" * 31, "", "-1"])
def test_a_query_integer_takes_ascii_digits_only(raw):
    assert "n" in Schema.from_dict({"n": QueryInteger()})().validate({"n": raw})


def test_a_query_integer_takes_digits():
    assert Schema.from_dict({"n": QueryInteger()})().load({"n": "0042"}) == {"n": 42}
