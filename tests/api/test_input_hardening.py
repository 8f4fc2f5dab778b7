"""Hostile input answers `400 validation_error` on every route, never a 500 and never a quiet guess."""

from __future__ import annotations

import pytest

from ..conftest import PASSWORD

DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 50_000 + "1" + "}" * 50_000
HUGE_INTEGER = "1" * 5_000  # past Python's 4,300-digit limit for int("...")


def _assert_validation_error(response) -> dict:
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["code"] == "validation_error", body
    assert isinstance(body["message"], str) and body["message"]
    return body


def json_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route that reads a JSON body, ids in the path filled in with 1."""
    routes = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        arguments = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
        if any(argument["in"] == "json" for argument in arguments):
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<id:{name}>", "1")
            routes.extend((method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return routes


def test_the_json_routes_are_found(app):
    found = set(json_routes(app))
    assert {("POST", "/auth/login"), ("POST", "/orders"), ("POST", "/orders/1/pay"), ("POST", "/lock")} <= found


@pytest.mark.parametrize(
    "body",
    [
        DEEP_ARRAY,
        DEEP_OBJECT,
        HUGE_INTEGER,
        '{"email": ' + HUGE_INTEGER + ', "password": "x"}',
        '{"seat_ids": [' + HUGE_INTEGER + "]}",
        '{"seatId": ' + HUGE_INTEGER + "}",
        '{"payment_token": ' + HUGE_INTEGER + "}",
    ],
    ids=["deep-array", "deep-object", "huge-int", "huge-email", "huge-seat-id", "huge-seatId", "huge-token"],
)
def test_bodies_json_cannot_parse_are_400_on_every_json_route(api, app, client, body):
    user = api.user()
    for method, path in json_routes(app):
        response = client.open(path, method=method, data=body, content_type="application/json", headers=user["headers"])
        assert response.status_code == 400, (method, path, response.get_data(as_text=True)[:300])
        _assert_validation_error(response)


def test_a_deep_login_body_leaves_the_login_limit_working(client, api):
    """The login limit reads the body too: an unparsable one must not knock the limiter out."""
    client.post("/auth/login", data=DEEP_ARRAY, content_type="application/json")
    user = api.register()
    assert client.post("/auth/login", json={"email": user["email"], "password": PASSWORD}).status_code == 200


@pytest.mark.parametrize("value", [1.5, 1.0, 1e3, True, False, "1", "1.5", None, [1], {"id": 1}])
def test_seat_ids_must_be_json_integers(api, value):
    user = api.user()
    event = api.seed()
    response = api.client.post("/orders", json={"seat_ids": [value]}, headers=user["headers"])
    body = _assert_validation_error(response)
    assert any(field.startswith("seat_ids") for field in body["details"]), body
    # nothing was ordered: seat 1 (what 1.5 or true truncates to) is still free
    seat = api.client.get(f"/seats/{event['seat_ids'][0]}").get_json()["seat"]
    assert seat["status"] == "available"


@pytest.mark.parametrize("path", ["/lock", "/confirm"])
@pytest.mark.parametrize("fraction", [0.9, 0.5, 0.1])
def test_seat_id_with_a_fraction_is_refused_not_truncated(api, path, fraction):
    user = api.user()
    event = api.seed()
    seat_id = event["seat_ids"][0]
    response = api.client.post(path, json={"seatId": seat_id + fraction}, headers=user["headers"])
    body = _assert_validation_error(response)
    assert "seatId" in body["details"]
    assert api.client.get(f"/seats/{seat_id}").get_json()["seat"]["status"] == "available"


@pytest.mark.parametrize("value", [True, "1", "01", 1.0])
def test_seat_id_must_be_a_json_integer(api, value):
    user = api.user()
    api.seed()
    response = api.client.post("/lock", json={"seatId": value}, headers=user["headers"])
    assert "seatId" in _assert_validation_error(response)["details"]


def test_a_whole_seat_id_still_locks(api):
    user = api.user()
    event = api.seed()
    response = api.client.post("/lock", json={"seatId": event["seat_ids"][0]}, headers=user["headers"])
    assert response.status_code == 200


def test_user_id_of_any_shape_is_never_a_500(api):
    """`userId` is compared with the token's user whatever its type: a deep or odd value is refused."""
    user = api.user()
    event = api.seed()
    deep = "[" * 900 + "]" * 900
    for raw in (deep, "1.5", "true", '"x"', '{"a": 1}'):
        body = f'{{"seatId": {event["seat_ids"][0]}, "userId": {raw}}}'
        response = api.client.post("/lock", data=body, content_type="application/json", headers=user["headers"])
        assert response.status_code in (400, 403), (raw, response.status_code)
        assert response.get_json()["code"] in ("validation_error", "forbidden")
    same = f'{{"seatId": {event["seat_ids"][0]}, "userId": "{user["id"]}"}}'
    response = api.client.post("/lock", data=same, content_type="application/json", headers=user["headers"])
    assert response.status_code == 200


class TestQueryStrings:
    @pytest.fixture
    def settings(self):
        return {"MAX_URL_LENGTH": 8000}  # room for a 5,000-digit number (the default answers 414 first)

    @pytest.mark.parametrize(
        ("path", "field"),
        [
            ("/seats?event_id={}", "event_id"),
            ("/events/{event}/changes?since={}", "since"),
        ],
    )
    @pytest.mark.parametrize("raw", ["1.5", "1e3", HUGE_INTEGER, "1_0", "\u0661", " 1", "+1", "-1", "true", ""])
    def test_integer_query_parameters_take_plain_digits_only(self, api, client, path, field, raw):
        event = api.seed()
        response = client.get(path.format(raw, event=event["id"]))
        assert field in _assert_validation_error(response)["details"]

    def test_integer_query_parameters_still_take_digits(self, api, client):
        event = api.seed()
        assert client.get(f"/seats?event_id={event['id']}").status_code == 200
        assert client.get(f"/events/{event['id']}/changes?since=0").status_code == 200

    @pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "1e999", HUGE_INTEGER])
    def test_wait_must_be_a_finite_number(self, api, client, raw):
        event = api.seed()
        response = client.get(f"/events/{event['id']}/changes?wait={raw}")
        assert "wait" in _assert_validation_error(response)["details"]


def test_a_huge_number_in_a_query_string_is_414_with_the_default_url_limit(api, client):
    event = api.seed()
    response = client.get(f"/events/{event['id']}/changes?since={HUGE_INTEGER}")
    assert (response.status_code, response.get_json()["code"]) == (414, "uri_too_long")


def test_an_over_long_list_is_refused_before_its_items_are_read(api):
    """A megabyte of bad ids answers one problem, not one per item."""
    user = api.user()
    response = api.client.post("/orders", json={"seat_ids": [1.5] * 100_000}, headers=user["headers"])
    body = _assert_validation_error(response)
    assert len(response.get_data()) < 1000, len(response.get_data())
    assert list(body["details"]) == ["seat_ids"]


# --- emails: normalised first, then checked -------------------------------------------------------

DOTTED_I = "\u0130"  # 'İ': lower-cased it becomes two characters, 'i' and a combining dot


@pytest.mark.parametrize(
    "email",
    [
        "a" * 64 + "@" + (DOTTED_I * 30 + ".") * 3 + "example.com",  # a valid domain (IDNA) that grows
        DOTTED_I * 64 + "@" + "d" * 60 + "." + "e" * 60 + ".example.com",  # in the local part
    ],
    ids=["domain", "local-part"],
)
def test_an_email_that_grows_past_254_when_lower_cased_is_refused(client, email):
    assert len(email) <= 254 < len(email.lower())
    response = client.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert "email" in _assert_validation_error(response)["details"]
    response = client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert "email" in _assert_validation_error(response)["details"]


def test_an_email_that_stays_within_254_when_lower_cased_is_stored_lower_cased(client):
    email = "Ann@" + DOTTED_I * 10 + ".Example.com"
    response = client.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    stored = response.get_json()["user"]["email"]
    assert stored == email.lower() and len(stored) == len(email) + 10
    assert client.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
    assert client.post("/auth/login", json={"email": stored, "password": PASSWORD}).status_code == 200


def test_a_254_character_email_is_still_welcome(client):
    email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 58 + ".io"
    assert len(email) == 254
    response = client.post("/auth/register", json={"email": email.upper(), "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["user"]["email"] == email
