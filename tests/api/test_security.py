"""Abuse protection: login and registration limits, JSON-only writes, security headers, CORS."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
import uuid

import pytest
import redis

from ticketing import create_app
from ticketing.extensions import db

from ..conftest import PASSWORD
from ..databases import base_config

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WRONG = "not the password"


def _login(client, email: str, password: str, **kwargs):
    return client.post("/auth/login", json={"email": email, "password": password}, **kwargs)


def _register(client, email: str, address: str):
    return client.post(
        "/auth/register", json={"email": email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": address}
    )


def _assert_rate_limited(response, longest_wait: int) -> int:
    """A 429 `rate_limited` with a Retry-After of whole seconds; returns the seconds."""
    assert response.status_code == 429, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["code"] == "rate_limited"
    assert isinstance(body["message"], str) and body["message"]
    assert "access_token" not in body
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= longest_wait
    return retry_after


class TestLoginFailureLimit:
    @pytest.fixture
    def settings(self):
        return {"LOGIN_FAILURE_LIMIT": "3/minute"}

    def test_failed_logins_lock_the_account_with_retry_after(self, api, client):
        user = api.register("ann@example.com")
        # the limit counts the account, however its email is spelled
        for spelling in ("ann@example.com", "ANN@Example.com", " ann@example.com "):
            response = _login(client, spelling, WRONG)
            assert response.status_code == 401
            assert response.get_json()["code"] == "invalid_credentials"
        _assert_rate_limited(_login(client, user["email"], WRONG), longest_wait=61)
        _assert_rate_limited(_login(client, "Ann@example.com", WRONG), longest_wait=61)

    def test_correct_password_is_refused_during_the_lockout(self, api, client):
        """Chosen: a locked account refuses every login, so guessing cannot go on during the lockout."""
        user = api.register()
        for _ in range(3):
            assert _login(client, user["email"], WRONG).status_code == 401
        _assert_rate_limited(_login(client, user["email"], PASSWORD), longest_wait=61)

    def test_other_accounts_at_the_same_address_are_not_affected(self, api, client):
        locked, colleague = api.register(), api.register()
        box_office = {"REMOTE_ADDR": "203.0.113.7"}
        for _ in range(3):
            assert _login(client, locked["email"], WRONG, environ_base=box_office).status_code == 401
        assert _login(client, locked["email"], PASSWORD, environ_base=box_office).status_code == 429
        assert _login(client, colleague["email"], PASSWORD, environ_base=box_office).status_code == 200
        # the colleague's own budget is whole too
        assert _login(client, colleague["email"], WRONG, environ_base=box_office).status_code == 401

    def test_successful_logins_do_not_count(self, api, client):
        user = api.register()
        for _ in range(5):
            assert _login(client, user["email"], PASSWORD).status_code == 200
        for _ in range(2):
            assert _login(client, user["email"], WRONG).status_code == 401
        assert _login(client, user["email"], PASSWORD).status_code == 200
        assert _login(client, user["email"], WRONG).status_code == 401
        assert _login(client, user["email"], PASSWORD).status_code == 429

    def test_invalid_and_non_json_requests_do_not_count(self, api, client):
        user = api.register()
        for _ in range(4):
            assert client.post("/auth/login", json={"email": user["email"]}).status_code == 400
            form = client.post("/auth/login", data={"email": user["email"], "password": WRONG})
            assert form.status_code == 415
        assert _login(client, user["email"], PASSWORD).status_code == 200

    def test_unknown_email_is_limited_like_a_real_one(self, client):
        """An attacker cannot tell registered emails from the 429 either."""
        for _ in range(3):
            assert _login(client, "nobody@example.com", WRONG).status_code == 401
        _assert_rate_limited(_login(client, "nobody@example.com", WRONG), longest_wait=61)

    def test_each_app_has_its_own_memory_limits(self, api, client, database_url, settings):
        user = api.register()
        for _ in range(3):
            _login(client, user["email"], WRONG)
        assert _login(client, user["email"], PASSWORD).status_code == 429
        other = create_app(base_config(database_url, **settings))
        try:
            assert _login(other.test_client(), user["email"], PASSWORD).status_code == 200
        finally:
            with other.app_context():
                db.engine.dispose()


class TestLockoutEnds:
    @pytest.fixture
    def settings(self):
        return {"LOGIN_FAILURE_LIMIT": "2 per 4 seconds"}

    def test_login_works_again_after_retry_after(self, api, client):
        user = api.register()
        for _ in range(2):
            assert _login(client, user["email"], WRONG).status_code == 401
        retry_after = _assert_rate_limited(_login(client, user["email"], PASSWORD), longest_wait=5)
        time.sleep(retry_after)
        assert _login(client, user["email"], PASSWORD).status_code == 200


class TestRegistrationLimit:
    @pytest.fixture
    def settings(self):
        return {"REGISTER_LIMIT": "2/hour"}

    def test_registrations_are_limited_per_client_address(self, api, client):
        assert _register(client, "one@example.com", "198.51.100.1").status_code == 201
        assert _register(client, "two@example.com", "198.51.100.1").status_code == 201
        _assert_rate_limited(_register(client, "three@example.com", "198.51.100.1"), longest_wait=3601)
        # another address still registers, and the refused account was not created
        assert _register(client, "three@example.com", "198.51.100.2").status_code == 201
        # logging in is not a registration
        assert (
            _login(client, "one@example.com", PASSWORD, environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 200
        )


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("CI") or os.environ.get("REQUIRE_REDIS"):
            pytest.fail(f"Redis at {REDIS_URL} is not reachable: {error}")
        pytest.skip(f"Redis at {REDIS_URL} is not reachable (set REQUIRE_REDIS=1 to make this a failure)")


class TestSharedLimitsInRedis:
    @pytest.fixture
    def settings(self):
        _redis_or_skip()
        return {"RATE_LIMIT_STORAGE_URL": REDIS_URL, "LOGIN_FAILURE_LIMIT": "3/minute", "REGISTER_LIMIT": "2/hour"}

    def test_two_hosts_share_the_counts(self, client, database_url, settings):
        # A fresh email and address each run: keys other runs left in Redis cannot matter.
        run = uuid.uuid4()
        address = f"10.{run.bytes[0]}.{run.bytes[1]}.{run.bytes[2]}"
        email, newcomer = f"shared-{run.hex}@example.com", f"newcomer-{run.hex}@example.com"
        assert _register(client, email, address).status_code == 201
        second_host = create_app(base_config(database_url, **settings))
        try:
            other = second_host.test_client()
            assert _register(other, newcomer, address).status_code == 201
            third = _register(client, f"third-{run.hex}@example.com", address)
            _assert_rate_limited(third, longest_wait=3601)
            assert _login(client, email, WRONG).status_code == 401
            assert _login(other, email, WRONG).status_code == 401
            assert _login(client, email, WRONG).status_code == 401
            _assert_rate_limited(_login(other, email, PASSWORD), longest_wait=61)
            _assert_rate_limited(_login(client, email, PASSWORD), longest_wait=61)
            assert _login(other, newcomer, PASSWORD).status_code == 200
        finally:
            with second_host.app_context():
                db.engine.dispose()


class TestRedisOutage:
    @pytest.fixture
    def settings(self):
        # nothing listens on port 1: the limiter falls back to this process's memory
        return {"RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:1/0", "LOGIN_FAILURE_LIMIT": "2/minute"}

    def test_logins_still_work_and_are_still_limited(self, api, client):
        user = api.register()
        assert _login(client, user["email"], PASSWORD).status_code == 200
        for _ in range(2):
            assert _login(client, user["email"], WRONG).status_code == 401
        _assert_rate_limited(_login(client, user["email"], PASSWORD), longest_wait=61)


@pytest.mark.parametrize(
    ("method", "path", "data", "content_type"),
    [
        ("post", "/auth/register", "email=a@example.com&password=long+enough", "application/x-www-form-urlencoded"),
        ("post", "/auth/login", '{"email": "a@example.com", "password": "x"}', "text/plain"),
        ("post", "/orders", '{"seat_ids": [1]}', "text/plain"),
        ("post", "/lock", '{"seatId": 1}', "multipart/form-data; boundary=x"),
        ("delete", "/seats/1/lock", "release", "text/plain"),
        ("post", "/auth/login", '{"email": "a@example.com"}', None),
    ],
)
def test_write_with_a_non_json_body_is_415(api, client, method, path, data, content_type):
    user = api.user()
    kwargs = {"data": data, "headers": user["headers"]}
    if content_type:
        kwargs["content_type"] = content_type
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == 415, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["code"] == "unsupported_media_type"
    assert isinstance(body["message"], str) and body["message"]


def test_writes_without_a_body_and_json_with_a_charset_still_work(api, client):
    user = api.user()
    seat = api.seed(rows="A", per_row=3)["seat_ids"][0]
    assert client.post(f"/seats/{seat}/lock", headers=user["headers"]).status_code == 200
    assert client.delete(f"/seats/{seat}/lock", headers=user["headers"]).status_code == 200
    # curl -X POST -H 'Content-Type: application/json' with no data
    locked = client.post(f"/seats/{seat}/lock", headers=user["headers"], content_type="application/json")
    assert locked.status_code == 200
    login = client.post(
        "/auth/login",
        data=f'{{"email": "{user["email"]}", "password": "{PASSWORD}"}}',
        content_type="application/json; charset=utf-8",
    )
    assert login.status_code == 200


def _assert_common_security_headers(response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_json_answers_carry_security_headers(api, client):
    for response in (client.get("/events"), client.get("/no/such/route"), client.post("/auth/login", json={})):
        _assert_common_security_headers(response)
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "no-store" not in client.get("/events").headers.get("Cache-Control", "")


def test_authenticated_answers_and_tokens_are_not_cached(api, client):
    user = api.register()
    login = _login(client, user["email"], PASSWORD)
    assert login.headers["Cache-Control"] == "no-store"
    headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    for response in (client.get("/auth/me", headers=headers), client.get("/events", headers=headers)):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        _assert_common_security_headers(response)


def test_docs_page_policy_allows_this_origin_and_its_own_script_only(client):
    response = client.get("/docs")
    assert response.status_code == 200
    _assert_common_security_headers(response)
    policy = response.headers["Content-Security-Policy"]
    directives = dict((part.split()[0], part.split()[1:]) for part in policy.split(";"))
    page = response.get_data(as_text=True)
    assert "/docs/assets/" in page and "http" not in policy  # Swagger UI from this origin, no other host
    assert directives["script-src"][0] == "'self'" and directives["style-src"][0] == "'self'"
    assert directives["img-src"] == ["'self'", "data:"]
    assert "'unsafe-inline'" not in directives["script-src"]
    inline_scripts = re.findall(r"<script>(.*?)</script>", page, re.DOTALL)
    assert inline_scripts
    for script in inline_scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in directives["script-src"]
    assert "'self'" in directives["connect-src"]  # the page fetches /openapi.json
    assert directives["frame-ancestors"] == ["'none'"]


def test_cors_is_off_by_default(client):
    origin = {"Origin": "https://shop.example"}
    preflight = client.options("/auth/login", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Origin" not in client.get("/events", headers=origin).headers


class TestCors:
    @pytest.fixture
    def settings(self):
        return {"CORS_ORIGINS": ["https://shop.example", "https://admin.shop.example"]}

    def test_preflight_from_a_listed_origin(self, client):
        response = client.options(
            "/seats/1/lock",
            headers={
                "Origin": "https://shop.example",
                "Access-Control-Request-Method": "DELETE",
                "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
            },
        )
        assert response.status_code in (200, 204)
        assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
        allowed_headers = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"authorization", "content-type", "idempotency-key"} <= allowed_headers
        allowed_methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
        assert {"POST", "DELETE"} <= allowed_methods
        assert "Origin" in response.headers["Vary"]

    def test_actual_requests_from_a_listed_origin_can_read_answers_and_errors(self, api, client):
        user = api.register()
        origin = {"Origin": "https://admin.shop.example"}
        ok = _login(client, user["email"], PASSWORD, headers=origin)
        assert ok.status_code == 200
        assert ok.headers["Access-Control-Allow-Origin"] == "https://admin.shop.example"
        assert "Origin" in ok.headers["Vary"]
        failed = _login(client, user["email"], WRONG, headers=origin)
        assert failed.status_code == 401
        assert failed.headers["Access-Control-Allow-Origin"] == "https://admin.shop.example"
        assert "Access-Control-Allow-Credentials" not in ok.headers  # bearer tokens, never cookies

    def test_an_origin_not_listed_gets_no_allow_header(self, api, client):
        stranger = {"Origin": "https://evil.example"}
        preflight = client.options("/auth/login", headers={**stranger, "Access-Control-Request-Method": "POST"})
        assert "Access-Control-Allow-Origin" not in preflight.headers
        assert "Access-Control-Allow-Headers" not in preflight.headers
        response = client.get("/events", headers=stranger)
        assert response.status_code == 200
        assert "Access-Control-Allow-Origin" not in response.headers
        # a look-alike of a listed origin is a different origin
        lookalike = client.get("/events", headers={"Origin": "https://shop.example.evil.example"})
        assert "Access-Control-Allow-Origin" not in lookalike.headers


class TestBehindAProxy:
    @pytest.fixture
    def settings(self):
        return {"PROXY_COUNT": 1, "REGISTER_LIMIT": "2/hour"}

    def test_registrations_are_counted_per_forwarded_client(self, client):
        def register(index: int, forwarded_for: str):
            return client.post(
                "/auth/register",
                json={"email": f"proxied{index}@example.com", "password": "long enough password"},
                headers={"X-Forwarded-For": forwarded_for},
                environ_base={"REMOTE_ADDR": "10.0.0.1"},  # the proxy
            )

        assert [register(i, "203.0.113.7").status_code for i in range(3)] == [201, 201, 429]
        assert register(3, "203.0.113.8").status_code == 201, "another client behind the same proxy"
