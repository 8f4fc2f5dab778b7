"""Liveness and readiness."""

from __future__ import annotations

from ..errors import DatabaseUnavailableError
from ..services.health import database_is_reachable


def healthz() -> dict:
    return {"status": "ok"}


def readyz() -> dict:
    if not database_is_reachable():
        raise DatabaseUnavailableError()
    return {"status": "ok"}
