"""The failed-login budgets themselves (ticketing/login_limits.py), in memory and in Redis."""

from __future__ import annotations

import os
import uuid

import pytest
import redis

from ticketing import login_limits
from ticketing.login_limits import LoginLimiter, LoginRefused, MemoryWindows, budgets

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("CI") or os.environ.get("REQUIRE_REDIS"):
            pytest.fail(f"Redis at {REDIS_URL} is not reachable: {error}")
        pytest.skip(f"Redis at {REDIS_URL} is not reachable (set REQUIRE_REDIS=1 to make this a failure)")


@pytest.fixture(params=["memory", "redis"])
def storage_url(request) -> str:
    if request.param == "redis":
        _redis_or_skip()
        return REDIS_URL
    return "memory://"


def _fresh() -> tuple[str, str]:
    """An account and an address no other run used (Redis keeps counts between runs)."""
    run = uuid.uuid4().hex
    return f"account-{run}", f"address-{run}"


def test_a_budget_is_spent_then_refused_with_the_wait(storage_url):
    limiter = LoginLimiter(account_limit="3/minute", address_limit="100/minute", storage_url=storage_url)
    account, address = _fresh()
    for _ in range(3):
        limiter.spend(account=account, address=address)
    with pytest.raises(LoginRefused) as refused:
        limiter.spend(account=account, address=address)
    assert refused.value.kind == "account"
    assert 1 <= refused.value.retry_after <= 60


def test_a_refund_gives_the_unit_back(storage_url):
    limiter = LoginLimiter(account_limit="2/minute", address_limit="100/minute", storage_url=storage_url)
    account, address = _fresh()
    for _ in range(5):  # right passwords, every one refunded: never refused
        limiter.refund(limiter.spend(account=account, address=address))
    limiter.spend(account=account, address=address)
    limiter.spend(account=account, address=address)
    with pytest.raises(LoginRefused):
        limiter.spend(account=account, address=address)


def test_a_refused_login_spends_nothing_anywhere(storage_url):
    """An account's lockout must not eat the address's budget, nor an address's the account's."""
    limiter = LoginLimiter(account_limit="1/minute", address_limit="3/minute", storage_url=storage_url)
    locked, address = _fresh()
    limiter.spend(account=locked, address=address)
    for _ in range(5):
        with pytest.raises(LoginRefused):
            limiter.spend(account=locked, address=address)
    # the address spent 1 of 3 (the refused ones gave their address units back)
    others = [f"{locked}-{n}" for n in range(2)]
    for other in others:
        limiter.spend(account=other, address=address)
    with pytest.raises(LoginRefused) as refused:
        limiter.spend(account=f"{locked}-last", address=address)
    assert refused.value.kind == "address"


def test_every_rate_of_a_setting_is_a_budget(storage_url):
    assert [(b.amount, b.seconds) for b in budgets("account", "2/minute;3/hour")] == [(2, 60), (3, 3600)]
    limiter = LoginLimiter(account_limit="5/minute;6/hour", address_limit="100/minute", storage_url=storage_url)
    account, address = _fresh()
    for _ in range(5):
        limiter.spend(account=account, address=address)
    with pytest.raises(LoginRefused) as refused:
        limiter.spend(account=account, address=address)
    assert refused.value.retry_after <= 60  # the minute's budget is the one spent


def test_an_unreachable_redis_counts_in_memory_instead(caplog):
    limiter = LoginLimiter(account_limit="2/minute", address_limit="100/minute", storage_url="redis://127.0.0.1:1/0")
    account, address = _fresh()
    limiter.spend(account=account, address=address)
    limiter.spend(account=account, address=address)
    with pytest.raises(LoginRefused):
        limiter.spend(account=account, address=address)
    assert "Redis cannot be reached" in caplog.text


def test_idle_windows_are_forgotten(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(login_limits.time, "monotonic", lambda: now[0])
    windows = MemoryWindows()
    (budget,) = budgets("address", "5/minute")
    for number in range(100):
        windows.add(f"address-{number}", budget, "attempt")
    now[0] += 120
    windows.add("address-new", budget, "attempt")
    assert set(windows._windows) == {"address-new"}
