"""Schemathesis against the app's own OpenAPI document (`/openapi.json`), in process through WSGI.

Every documented operation is called with generated input (valid and invalid), with a valid Bearer
token where the route takes one, against a database with seeded events, seats and an order, so that
generated ids sometimes exist. Each answer must be no 5xx, have a documented status and media type,
and match its documented schema (errors included).

CI runs a bounded number of examples per operation; a long run:

    FUZZ_LONG=1 .venv/bin/pytest -q tests/fuzz/test_schemathesis.py
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
import schemathesis
from flask_jwt_extended import create_access_token
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from ticketing import create_app

from ..databases import base_config

FUZZ_LONG = os.environ.get("FUZZ_LONG", "") not in ("", "0")
MAX_EXAMPLES = 300 if FUZZ_LONG else 25

CHECKS = [
    not_a_server_error,  # never a 5xx for anything a client can send
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,  # errors too: {code, message, details?}
    response_headers_conformance,
    negative_data_rejection,  # input the document rules out is a 4xx
    ignored_auth,  # a route that takes a token refuses a missing or garbage one
    unsupported_method,  # 405 with Allow for methods a path does not have
    allow_header_conformance,
]


def _access_token(app, user_id: int) -> str:
    with app.app_context():
        return create_access_token(identity=SimpleNamespace(id=user_id))


class Credentials:
    """Tokens of one user: the right one for each operation."""

    def __init__(self, app, user: dict) -> None:
        self.app, self.user = app, user

    def headers_for(self, case) -> dict:
        path, method = case.operation.path, case.method.upper()
        if (method, path) == ("POST", "/auth/refresh"):
            return {"Authorization": f"Bearer {self.user['tokens']['refresh_token']}"}
        if (method, path) == ("POST", "/auth/logout"):
            # Logging out revokes the token sent: each call gets a token of its own.
            return {"Authorization": f"Bearer {_access_token(self.app, self.user['id'])}"}
        return dict(self.user["headers"])


@pytest.fixture
def settings() -> dict:
    """The app's settings for this module: room for generated registrations to succeed before 429s."""
    return {"REGISTER_LIMIT": "60/hour"}


@pytest.fixture
def credentials(app, api) -> Credentials:
    """A user with tokens, and things for generated ids to find in every state.

    A priced event (10 seats) and a free one (5): seats locked by the user, booked, in the user's
    pending order, in another user's order; orders pending, paid, and another user's.
    """
    user = api.user()
    other = {"headers": {"Authorization": f"Bearer {_access_token(app, api.register()['id'])}"}}
    priced = api.seed(name="Priced", rows="A-B", per_row=5, price_cents=2500, currency="EUR")
    free = api.seed(name="Free", rows="A", per_row=5)
    client = api.client

    def send(method: str, path: str, who: dict, body: dict | None = None) -> dict:
        response = client.open(path, method=method, json=body, headers=who["headers"])
        assert response.status_code < 300, (path, response.get_json())
        return response.get_json()

    send("POST", f"/seats/{priced['seat_ids'][0]}/lock", user)
    send("POST", "/orders", user, {"seat_ids": priced["seat_ids"][1:3]})
    send("POST", "/orders", other, {"seat_ids": priced["seat_ids"][3:4]})
    free_order = send("POST", "/orders", user, {"seat_ids": free["seat_ids"][:2]})["order"]
    send("POST", f"/orders/{free_order['id']}/pay", user, {})
    send("POST", f"/seats/{free['seat_ids'][2]}/lock", user)
    send("POST", f"/seats/{free['seat_ids'][2]}/confirm", user)
    return Credentials(app, user)


# The document does not depend on the database: it is read from an app built for that alone, and
# each test sends the generated requests to its own app (`app` fixture, on SQLite or PostgreSQL).
# (`schemathesis.pytest.from_fixture` would load it from a fixture, but its lazy loader sets
# `Node._nodeid`, which pytest 9.2 no longer has.)
_document_app = create_app(base_config("sqlite://"))
schema = schemathesis.openapi.from_wsgi(
    "/openapi.json",
    _document_app,
    config=schemathesis.Config.from_dict({"generation": {"max-examples": MAX_EXAMPLES, "database": "none"}}),
)


@schema.parametrize()
@hypothesis_settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_every_operation_answers_as_documented(case, app, credentials):
    """No 5xx, and every answer (error or not) has a documented status, media type and shape."""
    # The WSGI transport does not decompress: ask for plain bodies (gzip is tested in test_seat_map.py).
    headers = {**credentials.headers_for(case), "Accept-Encoding": "identity"}
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)
