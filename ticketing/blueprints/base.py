"""What every blueprint shares: 400 for invalid input, the `id` URL converter, the auth doc."""

from __future__ import annotations

import re

import flask_smorest
from webargs.flaskparser import FlaskParser
from werkzeug.routing import BaseConverter

from ..models import MAX_ID
from ..schemas.common import ErrorSchema

_DIGITS = re.compile(r"[0-9]{1,19}")

# Routes that need `Authorization: Bearer <access token>`, for the OpenAPI document.
BEARER = {"security": [{"bearerAuth": []}]}
BEARER_OPTIONAL = {"security": [{}, {"bearerAuth": []}]}


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _Parser()

    def alt_response(self, status_code, response=None, *, schema=None, **kwargs):
        """Document another answer; an error status without a schema of its own gets the error shape."""
        if response is None and schema is None and _is_error_status(status_code):
            schema = ErrorSchema
        return super().alt_response(status_code, response, schema=schema, **kwargs)


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
