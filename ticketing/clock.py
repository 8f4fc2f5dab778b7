"""Where "now" comes from: the system clock, or a clock a test controls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app

from .models.types import utcnow


class SystemClock:
    """The real time, as naive UTC."""

    def now(self) -> datetime:
        return utcnow()


class ManualClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or utcnow()

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


def current_time() -> datetime:
    """The app's "now" for this request: controllers read it once and pass it down."""
    return current_app.extensions["clock"].now()


def current_clock() -> Callable[[], datetime]:
    """The app's clock as a function: write services call it after taking their row locks."""
    return current_app.extensions["clock"].now
