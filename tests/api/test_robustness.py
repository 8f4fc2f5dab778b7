"""Nothing a client sends gets a 500, an HTML page or a stack trace."""

from __future__ import annotations

import pytest


def _assert_json_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.content_type.startswith("application/json")
    body = response.get_json()
    assert isinstance(body["code"], str) and isinstance(body["message"], str)
    if code:
        assert body["code"] == code
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "SELECT" not in text and "<html" not in text.lower()
    return body


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("{not json", "application/json"),
        ("", "application/json"),
        ("null", "application/json"),
        ("[]", "application/json"),
        ('{"email": ["a"], "password": {"x": 1}}', "application/json"),
        ("\xff\xfe", "application/json"),
    ],
)
def test_bad_bodies_are_400_validation_error(client, data, content_type):
    response = client.post("/auth/register", data=data, content_type=content_type)
    body = _assert_json_error(response, 400, "validation_error")
    assert body["details"]


def test_form_encoded_body_is_415_unsupported_media_type(client):
    response = client.post(
        "/auth/register", data="email=a&password=b", content_type="application/x-www-form-urlencoded"
    )
    _assert_json_error(response, 415, "unsupported_media_type")


def test_sql_shaped_input_is_just_data(api, client):
    email = "x'); DROP TABLE users; --@example.com"
    response = client.post("/auth/login", json={"email": email, "password": "' OR '1'='1"})
    _assert_json_error(response, 401, "invalid_credentials")
    _assert_json_error(client.get("/seats/1;DROP TABLE seats"), 404, "seat_not_found")
    _assert_json_error(client.get("/seats?event_id=1 OR 1=1"), 400, "validation_error")
    assert client.get("/events").status_code == 200


def test_oversized_body_is_413(client):
    response = client.post("/auth/register", data="x" * (2 * 1024 * 1024), content_type="application/json")
    _assert_json_error(response, 413, "payload_too_large")


def test_unknown_route_and_wrong_method_answer_json(client):
    _assert_json_error(client.get("/no/such/route"), 404, "not_found")
    response = client.put("/events")
    _assert_json_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_absurd_ids_everywhere_are_404(api, client):
    user = api.user()
    # the last: fullwidth digits, which str.isdigit() accepts
    for raw in ("abc", "-1", "0", "1e3", "9" * 30, "%00", "\uff11\uff12"):
        for method, path in (
            ("get", "/seats/{}"),
            ("post", "/seats/{}/lock"),
            ("post", "/lock/{}"),
            ("get", "/events/{}"),
        ):
            response = getattr(client, method)(path.format(raw), headers=user["headers"])
            assert response.status_code == 404, (path, raw)
            assert response.get_json()["code"].endswith("not_found")


def test_huge_and_odd_strings_are_refused_cleanly(client):
    _assert_json_error(
        client.post("/auth/register", json={"email": "a" * 5000 + "@x.io", "password": "p" * 5000}),
        400,
        "validation_error",
    )
    for email, password in (
        ("\u0000", "password"),
        ("a@b.io", "\ud800\ud800\ud800\ud800"),
        ("a@b.io", "pass\u0000word"),
    ):
        _assert_json_error(client.post("/auth/login", json={"email": email, "password": password}), 400)
        _assert_json_error(
            client.post("/auth/register", json={"email": email, "password": password, "name": password}), 400
        )
