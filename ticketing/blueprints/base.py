"""What every blueprint shares: 400 for invalid input (JSON bodies included), the `id` URL converter,
the auth doc."""

from __future__ import annotations

import re

import flask_smorest
from flask.json.provider import DefaultJSONProvider
from webargs.flaskparser import FlaskParser
from werkzeug.routing import BaseConverter

from ..errors import InvalidRequestError
from ..models import MAX_ID
from ..openapi import error_description, error_schema
from ..schemas.common import ErrorSchema

_DIGITS = re.compile(r"[0-9]{1,19}")

# Routes that need `Authorization: Bearer <access token>`, for the OpenAPI document.
BEARER = {"security": [{"bearerAuth": []}]}
BEARER_OPTIONAL = {"security": [{}, {"bearerAuth": []}]}


def unreadable_json_reason(error: Exception) -> str:
    """What json.loads found wrong beyond bad syntax, in a sentence for the client."""
    if isinstance(error, RecursionError):
        return "Invalid JSON body: it nests too deeply."
    if "digits" in str(error):  # "Exceeds the limit (4300 digits) for integer string conversion"
        return "Invalid JSON body: a number has too many digits."
    return "Invalid JSON body."


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def load_json(self, req, schema):
        """The body as JSON. webargs answers bad syntax and bad bytes itself (400); this adds what
        json.loads raises besides: RecursionError for deep nesting, ValueError for an integer
        literal past Python's digit limit. Every route's body goes through here."""
        try:
            return super().load_json(req, schema)
        except (RecursionError, ValueError) as error:
            raise InvalidRequestError(details={"body": [unreadable_json_reason(error)]}) from None


class JSONProvider(DefaultJSONProvider):
    """The app's JSON: `request.get_json()` turns a body too deep to parse into the ValueError it
    handles (a 400, or None when silent) instead of letting RecursionError escape as a 500."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError(unreadable_json_reason(RecursionError())) from None


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _Parser()

    def alt_response(self, status_code, response=None, *, schema=None, codes=None, description=None, **kwargs):
        """Document another answer; an error status gets the error shape, its `code` limited to `codes`
        (listed in the description too) when they are given."""
        if codes:
            schema, description = error_schema(codes), error_description(codes, description)
        elif response is None and schema is None and _is_error_status(status_code):
            schema = ErrorSchema
        return super().alt_response(status_code, response, schema=schema, description=description, **kwargs)


def _is_error_status(status_code) -> bool:
    try:
        return int(status_code) >= 400
    except (TypeError, ValueError):  # "default", "4XX"
        return False


class IdConverter(BaseConverter):
    """Any path segment; one that is not a possible id becomes 0, which matches no row.

    So `/seats/abc`, `/seats/-1` and a 30-digit id answer the resource's own 404
    (`seat_not_found`) instead of a routing 404 or a database overflow.
    """

    regex = r"[^/]+"

    def to_python(self, value: str) -> int:
        if _DIGITS.fullmatch(value) and 0 < int(value) <= MAX_ID:
            return int(value)
        return 0

    def to_url(self, value: object) -> str:
        return str(value)


def id_parameter_schema(_converter) -> dict:
    return {"type": "integer", "format": "int64", "minimum": 1}
