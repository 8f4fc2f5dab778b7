"""Rate limits shared by hosts: two gunicorns (two workers each) counting in one Redis database
lock an account after 10 failed logins in all, wherever they landed."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import redis
import requests

from ..databases import postgres_required
from ..gunicorn_server import Server
from .deploy_support import own_database

pytestmark = pytest.mark.race

# A Redis database of this test's own (emptied before and after it).
REDIS_URL = os.environ.get("TEST_SHARED_LIMITS_REDIS_URL", "redis://127.0.0.1:6379/11")
PASSWORD = "correct horse battery"


@pytest.fixture
def shared_redis():
    store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        store.ping()
    except redis.RedisError as error:
        if postgres_required() or os.environ.get("REQUIRE_REDIS"):
            pytest.fail(f"Redis at {REDIS_URL} is not reachable: {error}")
        pytest.skip(f"Redis at {REDIS_URL} is not reachable")
    store.flushdb()
    yield REDIS_URL
    store.flushdb()


@pytest.fixture
def two_hosts(shared_redis):
    database_url = own_database("limits")
    directory = Path(tempfile.mkdtemp(prefix="ticketing-limits-"))
    started = []
    try:
        for index in range(2):
            started.append(
                Server(
                    database_url,
                    log_path=directory / f"host{index}.log",
                    WORKERS=2,
                    THREADS=4,
                    RATE_LIMIT_STORAGE_URL=shared_redis,
                    LOGIN_FAILURE_LIMIT="10/minute",
                )
            )
        yield started
    finally:
        for server in started:
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def test_ten_failed_logins_across_two_hosts_lock_the_account(two_hosts):
    first, second = two_hosts
    email = f"shared-{uuid.uuid4().hex}@example.com"
    registered = requests.post(f"{first.url}/auth/register", json={"email": email, "password": PASSWORD}, timeout=10)
    assert registered.status_code == 201

    for attempt in range(10):
        host = two_hosts[attempt % 2]  # each host (and, within it, whichever worker) sees half
        wrong = requests.post(f"{host.url}/auth/login", json={"email": email, "password": "wrong!"}, timeout=10)
        assert wrong.status_code == 401, (attempt, wrong.text)

    for host in (first, second):
        locked = requests.post(f"{host.url}/auth/login", json={"email": email, "password": PASSWORD}, timeout=10)
        assert locked.status_code == 429 and locked.json()["code"] == "rate_limited", locked.text
        assert 0 < int(locked.headers["Retry-After"]) <= 61
