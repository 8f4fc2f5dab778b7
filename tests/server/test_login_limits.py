"""Failed-login limits on a real gunicorn (several workers, threads): a burst cannot get past them.

Each login takes its unit of the budget before its password is checked, atomically, so of N
simultaneous wrong logins exactly the limit's number are checked (401) and the rest refused (429).
With Redis the budget is shared by every worker; with memory:// each worker counts alone.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter

import pytest
import redis
import requests

from ..conftest import PASSWORD
from ..race_support import at_once

pytestmark = pytest.mark.race

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WORKERS = 4
BURST = 100


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("CI") or os.environ.get("REQUIRE_REDIS"):
            pytest.fail(f"Redis at {REDIS_URL} is not reachable: {error}")
        pytest.skip(f"Redis at {REDIS_URL} is not reachable (set REQUIRE_REDIS=1 to make this a failure)")


def _address() -> str:
    """A client address of this run alone: counts other runs left in Redis cannot matter."""
    run = uuid.uuid4().bytes
    return f"10.{run[0]}.{run[1]}.{run[2]}"


def _start(server_factory, **settings):
    # PROXY_COUNT=1: the client address comes from X-Forwarded-For, so each run picks its own.
    return server_factory(WORKERS=WORKERS, THREADS=8, PROXY_COUNT=1, **settings)


def _register(server, session, email: str, address: str) -> None:
    response = session.post(
        f"{server.url}/auth/register",
        json={"email": email, "password": PASSWORD},
        headers={"X-Forwarded-For": address},
        timeout=30,
    )
    assert response.status_code == 201, response.text


def _burst(server, emails: list[str], address: str) -> Counter:
    def login(email):
        return lambda session: session.post(
            f"{server.url}/auth/login",
            json={"email": email, "password": "not the password"},
            headers={"X-Forwarded-For": address},
            timeout=120,
        )

    responses = at_once([login(email) for email in emails])
    for response in responses:
        assert response.headers["Content-Type"].startswith("application/json")
        if response.status_code == 429:
            assert response.json()["code"] == "rate_limited" and int(response.headers["Retry-After"]) >= 1
    return Counter(response.status_code for response in responses)


def test_a_burst_on_one_account_gets_exactly_the_limit_checked_with_redis(server_factory):
    _redis_or_skip()
    server = _start(server_factory, RATE_LIMIT_STORAGE_URL=REDIS_URL, LOGIN_FAILURE_LIMIT="10/minute")
    address, email = _address(), f"burst-{uuid.uuid4().hex}@example.com"
    with requests.Session() as session:
        _register(server, session, email, address)
    statuses = _burst(server, [email] * BURST, address)
    assert statuses == {401: 10, 429: BURST - 10}, statuses


def test_a_burst_from_one_address_gets_exactly_its_limit_checked_with_redis(server_factory):
    _redis_or_skip()
    server = _start(
        server_factory,
        RATE_LIMIT_STORAGE_URL=REDIS_URL,
        LOGIN_FAILURE_LIMIT="10/minute",
        LOGIN_ADDRESS_FAILURE_LIMIT="20/minute",
    )
    address = _address()
    emails = [f"nobody-{uuid.uuid4().hex}@example.com" for _ in range(BURST)]  # unknown, each once
    statuses = _burst(server, emails, address)
    assert statuses == {401: 20, 429: BURST - 20}, statuses


def test_with_memory_storage_each_worker_counts_alone(server_factory):
    """memory:// is per process: a burst gets at most the limit in each worker, never more."""
    server = _start(server_factory, RATE_LIMIT_STORAGE_URL="memory://", LOGIN_FAILURE_LIMIT="10/minute")
    address, email = _address(), f"burst-{uuid.uuid4().hex}@example.com"
    with requests.Session() as session:
        _register(server, session, email, address)
    statuses = _burst(server, [email] * BURST, address)
    assert set(statuses) <= {401, 429}, statuses
    assert 10 <= statuses[401] <= 10 * WORKERS, statuses
