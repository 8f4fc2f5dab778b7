"""Failed logins per client address (LOGIN_ADDRESS_FAILURE_LIMIT), counted before the password check."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy.exc import OperationalError

from ticketing.services import auth as auth_service

from ..conftest import PASSWORD

WRONG = "not the password"
FLOOD = {"REMOTE_ADDR": "198.51.100.66"}
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.9"}


def _login(client, email: str, password: str, address: dict):
    return client.post("/auth/login", json={"email": email, "password": password}, environ_base=address)


@pytest.fixture
def settings():
    return {"LOGIN_FAILURE_LIMIT": "10/minute", "LOGIN_ADDRESS_FAILURE_LIMIT": "3/minute"}


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """Every password hash checked during the test (the cost a flood is after)."""
    checked: list[str] = []
    real = auth_service.check_password_hash

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(auth_service, "check_password_hash", counting)
    return checked


def test_unknown_emails_from_one_address_are_limited_without_hashing(client, password_checks):
    for number in range(3):
        assert _login(client, f"nobody{number}@example.com", WRONG, FLOOD).status_code == 401
    assert len(password_checks) == 3  # the dummy hash: an unknown email costs like a known one
    for number in range(3, 10):
        response = _login(client, f"nobody{number}@example.com", WRONG, FLOOD)
        assert response.status_code == 429
        body = response.get_json()
        assert body["code"] == "rate_limited" and "address" in body["message"]
        assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert len(password_checks) == 3, "a refused login must not hash anything"


def test_the_address_lockout_refuses_right_passwords_too_and_spares_other_addresses(api, client):
    user, other = api.register(), api.register()
    for number in range(3):
        _login(client, f"nobody{number}@example.com", WRONG, FLOOD)
    assert _login(client, user["email"], PASSWORD, FLOOD).status_code == 429
    assert _login(client, user["email"], PASSWORD, ELSEWHERE).status_code == 200
    assert _login(client, other["email"], WRONG, ELSEWHERE).status_code == 401


def test_right_passwords_do_not_count_against_the_address(api, client):
    users = [api.register() for _ in range(6)]
    for user in users:  # a box office: many people signing in from one address
        assert _login(client, user["email"], PASSWORD, FLOOD).status_code == 200
    for user in users[:3]:
        assert _login(client, user["email"], WRONG, FLOOD).status_code == 401
    assert _login(client, users[4]["email"], PASSWORD, FLOOD).status_code == 429


def test_a_database_failure_during_the_check_does_not_count(api, client, monkeypatch):
    user = api.register()

    def broken(**_kwargs):
        raise OperationalError("SELECT", {}, Exception("the database went away"))

    monkeypatch.setattr(auth_service, "authenticate", broken)
    for _ in range(5):
        assert _login(client, user["email"], WRONG, FLOOD).status_code == 503
    monkeypatch.undo()
    assert _login(client, user["email"], PASSWORD, FLOOD).status_code == 200


class TestBurstInOneProcess:
    @pytest.fixture
    def settings(self):
        return {"LOGIN_FAILURE_LIMIT": "5/minute", "LOGIN_ADDRESS_FAILURE_LIMIT": "1000/minute"}

    def test_simultaneous_wrong_logins_get_exactly_the_limit_checked(self, api, app, password_checks):
        user = api.register()
        barrier, statuses = threading.Barrier(20), Counter()

        def attempt():
            client = app.test_client()
            barrier.wait()
            statuses[_login(client, user["email"], WRONG, FLOOD).status_code] += 1

        threads = [threading.Thread(target=attempt) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == {401: 5, 429: 15}
        assert len(password_checks) == 5
