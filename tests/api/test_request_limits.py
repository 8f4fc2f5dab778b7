"""Request heads past the app's limits answer JSON (414, 431); /metrics can require a Bearer token."""

from __future__ import annotations

import pytest


def _assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.content_type.startswith("application/json")
    body = response.get_json()
    assert body["code"] == code and body["message"]
    return body


class TestRequestHeadLimits:
    @pytest.fixture
    def settings(self):
        return {"MAX_URL_LENGTH": 300, "MAX_HEADER_BYTES": 1024, "MAX_HEADER_COUNT": 20}

    def test_a_url_past_the_limit_is_414_json_on_any_route(self, client):
        for path in ("/events?x=", "/seats/1?x=", "/no/such/route?x="):
            response = client.get(path + "a" * 300)
            _assert_json_error(response, 414, "uri_too_long")
        assert client.get("/events?x=" + "a" * 250).status_code == 200

    def test_a_header_past_the_limit_is_431_json(self, client):
        response = client.get("/events", headers={"X-Big": "b" * 1100})
        assert "X-Big" in _assert_json_error(response, 431, "headers_too_large")["message"]
        assert client.get("/events", headers={"X-Big": "b" * 900}).status_code == 200

    def test_too_many_headers_are_431_json(self, client):
        many = {f"X-Header-{number}": "1" for number in range(25)}
        _assert_json_error(client.get("/events", headers=many), 431, "headers_too_large")

    def test_a_refused_login_head_costs_nothing(self, api, client):
        user = api.register()
        response = client.post(
            "/auth/login", json={"email": user["email"], "password": "wrong"}, headers={"X-Big": "b" * 1100}
        )
        _assert_json_error(response, 431, "headers_too_large")


def test_metrics_are_open_without_a_token(client):
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"


class TestMetricsToken:
    @pytest.fixture
    def settings(self):
        return {"METRICS_TOKEN": "s3cret-scrape-token"}

    @pytest.mark.parametrize(
        "authorization",
        [None, "", "Bearer", "Bearer wrong", "Basic czNjcmV0LXNjcmFwZS10b2tlbg==", "s3cret-scrape-token"],
    )
    def test_metrics_need_the_token(self, client, authorization):
        headers = {} if authorization is None else {"Authorization": authorization}
        response = client.get("/metrics", headers=headers)
        _assert_json_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "ticketing_http_requests" not in response.get_data(as_text=True)

    def test_metrics_with_the_token(self, client):
        response = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"})
        assert response.status_code == 200 and response.mimetype == "text/plain"
        assert "ticketing_http_requests" in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store"

    def test_the_api_does_not_take_the_metrics_token(self, client):
        """It is not a user's token: the API's routes answer it like any bad token."""
        response = client.get("/auth/me", headers={"Authorization": "Bearer s3cret-scrape-token"})
        _assert_json_error(response, 401, "unauthorized")
