"""Failed-login budgets, spent BEFORE the password is checked.

A login takes one unit of its client address's budget (LOGIN_ADDRESS_FAILURE_LIMIT) and one of its
account's (LOGIN_FAILURE_LIMIT) before its password is hashed, each in one atomic check-and-count,
so of N simultaneous wrong logins exactly the limit's number are checked and the rest refused,
however many threads, workers and hosts serve them. A login that turns out right, or that fails for
any reason but wrong credentials, gives its units back: only failed logins count.

Each budget is a moving window ("10 in any minute", not "10 per clock minute"): the attempts of the
window, each under its own id with its time. In Redis it is a sorted set, checked and added to by
one Lua script that reads Redis' own clock (so hosts' clocks cannot disagree about it); with
`memory://` it lives in this process, and each worker process then has budgets of its own. When
Redis cannot be reached, the process counts in memory until Redis answers again (logged).

No Flask here: protection.py decides the keys and turns a refusal into `429 rate_limited`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from dataclasses import dataclass, field

from limits import parse_many
from limits.storage import storage_from_string

log = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 5  # how long a process counts in memory after Redis failed, before trying again
KEY_PREFIX = "ticketing:login"

# KEYS[1]: the window; ARGV: its length in seconds, the limit, the attempt's id. Returns nil when
# the attempt was counted, else the seconds until the oldest attempt leaves the window.
_TAKE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local seconds = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - seconds)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return tostring(tonumber(oldest[2]) + seconds - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(seconds))
return false
"""


@dataclass(frozen=True)
class Budget:
    """One rate of a limit setting ("10/minute;100/hour" is two budgets)."""

    kind: str  # "account" or "address": what the key identifies
    amount: int
    seconds: int


def budgets(kind: str, limit: str) -> tuple[Budget, ...]:
    """The budgets of a limit setting such as "10/minute"."""
    return tuple(Budget(kind, item.amount, item.get_expiry()) for item in parse_many(limit))


class LoginRefused(Exception):  # noqa: N818 - a refusal, not a failure
    """A budget is spent: nothing was taken; `retry_after` seconds until a unit frees."""

    def __init__(self, kind: str, retry_after: int) -> None:
        super().__init__(f"the {kind}'s failed-login budget is spent")
        self.kind, self.retry_after = kind, retry_after


@dataclass
class Attempt:
    """The units one login spent: `LoginLimiter.refund` gives them back unless it failed."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    taken: list[tuple[object, str]] = field(default_factory=list)  # (the windows it went into, key)


class MemoryWindows:
    """Moving windows in this process, one lock for all (an add is a few dictionary operations)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, dict[str, float]] = {}  # key -> {attempt id: when}
        self._ends: dict[str, float] = {}  # key -> when its newest attempt leaves the window
        self._next_sweep = 0.0

    def add(self, key: str, budget: Budget, attempt_id: str) -> float | None:
        """Count the attempt, or return the seconds until the window has room (counting nothing)."""
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            window = self._windows.setdefault(key, {})
            for old in [member for member, at in window.items() if at <= now - budget.seconds]:
                del window[old]
            if len(window) >= budget.amount:
                return min(window.values()) + budget.seconds - now
            window[attempt_id] = now
            self._ends[key] = now + budget.seconds
            return None

    def refund(self, key: str, attempt_id: str) -> None:
        """Forget the attempt (a login that did not fail)."""
        with self._lock:
            self._windows.get(key, {}).pop(attempt_id, None)

    def _sweep(self, now: float) -> None:
        # Every address and email ever tried has a window: drop the ones whose attempts have all
        # left them, once a minute, so a flood of new emails costs memory for a while, not forever.
        if now < self._next_sweep:
            return
        self._next_sweep = now + 60
        for key in [key for key, end in self._ends.items() if end <= now]:
            del self._ends[key]
            self._windows.pop(key, None)


class RedisWindows:
    """Moving windows in Redis, shared by every worker and host that uses the same Redis."""

    def __init__(self, url: str) -> None:
        # limits' storage understands every Redis URL form RATE_LIMIT_STORAGE_URL allows
        # (redis, rediss, redis+unix, redis+sentinel, redis+cluster); short timeouts: a hung Redis
        # must not hang logins.
        storage = storage_from_string(url, socket_connect_timeout=2, socket_timeout=2)
        self._client = storage.get_connection()
        self._add = self._client.register_script(_TAKE_SCRIPT)

    def add(self, key: str, budget: Budget, attempt_id: str) -> float | None:
        """Count the attempt, or return the seconds until the window has room (counting nothing)."""
        wait = self._add(keys=[key], args=[budget.seconds, budget.amount, attempt_id])
        return None if wait is None else float(wait)

    def refund(self, key: str, attempt_id: str) -> None:
        """Forget the attempt (a login that did not fail)."""
        self._client.zrem(key, attempt_id)


class LoginLimiter:
    """Failed-login budgets per account and per client address (see the module's docstring)."""

    def __init__(self, *, account_limit: str, address_limit: str, storage_url: str) -> None:
        # The address first: a flood from one address is refused before it touches accounts' budgets.
        self._budgets = budgets("address", address_limit) + budgets("account", account_limit)
        self._memory = MemoryWindows()
        self._redis = None if storage_url.startswith("memory") else RedisWindows(storage_url)
        self._redis_down_until = 0.0

    def spend(self, *, account: str, address: str) -> Attempt:
        """Spend a unit of every budget for this login, or raise LoginRefused having spent none."""
        attempt = Attempt()
        keys = {"account": account, "address": address}
        windows = self._windows()
        for budget in self._budgets:
            key = f"{KEY_PREFIX}:{budget.kind}:{budget.amount}/{budget.seconds}:{keys[budget.kind]}"
            try:
                wait = windows.add(key, budget, attempt.id)
            except Exception:
                if windows is self._memory:
                    raise
                windows = self._redis_failed()
                wait = windows.add(key, budget, attempt.id)
            if wait is not None:
                self.refund(attempt)
                raise LoginRefused(budget.kind, max(1, math.ceil(wait)))
            attempt.taken.append((windows, key))
        return attempt

    def refund(self, attempt: Attempt) -> None:
        """Return the units of a login that did not fail (its password was right, or it never got checked)."""
        for windows, key in attempt.taken:
            try:
                windows.refund(key, attempt.id)
            except Exception:  # the unit stays counted until its window passes: the safe side
                log.warning("a login's failed-login unit could not be given back", exc_info=True)
        attempt.taken.clear()

    def _windows(self) -> MemoryWindows | RedisWindows:
        if self._redis is None or time.monotonic() < self._redis_down_until:
            return self._memory
        return self._redis

    def _redis_failed(self) -> MemoryWindows:
        log.warning(
            "login limits: Redis cannot be reached; this process counts failed logins in memory for %s s",
            REDIS_RETRY_SECONDS,
            exc_info=True,
        )
        self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
        return self._memory
