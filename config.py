"""Settings, read from the environment (and `.env`) once, when the app is built."""

from __future__ import annotations

import os
from pathlib import Path

ENVIRONMENTS = ("production", "development", "testing")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from None


def settings_from_environment(instance_path: str) -> dict:
    """Return the app settings that the environment gives, with their defaults."""
    environment = os.environ.get("APP_ENV", "production")
    if environment not in ENVIRONMENTS:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
    default_database = "sqlite:///" + str(Path(instance_path) / "ticketing.sqlite3")
    return {
        "APP_ENV": environment,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or default_database,
        "JWT_SECRET_KEY": os.environ.get("JWT_SECRET_KEY") or None,
        "ACCESS_TOKEN_TTL_SECONDS": _int("ACCESS_TOKEN_TTL_SECONDS", 3600),
        "REFRESH_TOKEN_TTL_SECONDS": _int("REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600),
        "HOLD_TTL_SECONDS": _int("HOLD_TTL_SECONDS", 60),
        "CHECKOUT_TTL_SECONDS": _int("CHECKOUT_TTL_SECONDS", 600),
        "MAX_SEATS_PER_USER": _int("MAX_SEATS_PER_USER", 10),
        "LOCK_TIMEOUT_MS": _int("LOCK_TIMEOUT_MS", 3000),
        "PAYMENT_PROVIDER": os.environ.get("PAYMENT_PROVIDER", "fake"),
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 1024 * 1024),
        "LOGIN_FAILURE_LIMIT": os.environ.get("LOGIN_FAILURE_LIMIT") or "10/minute",
        "REGISTER_LIMIT": os.environ.get("REGISTER_LIMIT") or "20/hour",
        "RATE_LIMIT_STORAGE_URL": os.environ.get("RATE_LIMIT_STORAGE_URL") or "memory://",
        "CORS_ORIGINS": [o.strip() for o in os.environ.get("CORS_ORIGINS", "").split(",") if o.strip()],
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
        "PROXY_COUNT": _int("PROXY_COUNT", 0),
        "CHANGES_POLL_MS": _int("CHANGES_POLL_MS", 500),
    }
