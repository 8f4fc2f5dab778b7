"""Waiting for something to happen, with a deadline, instead of sleeping for a time that hopes to be enough."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.05, message: str = "") -> T:
    """Call `predicate` until it returns something true (returned), or fail once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(message or f"not true within {timeout} s: {predicate.__qualname__}")
        time.sleep(interval)
