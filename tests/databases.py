"""The two databases every test runs on, made fresh with the project's migrations."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ticketing import create_app
from ticketing.extensions import db

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/ticketing_test")
JWT_TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-signing"
# The seat maps the apps of this test run share (SEAT_MAP_DIR), removed when the run ends.
SEAT_MAP_DIR = tempfile.mkdtemp(prefix="ticketing-test-seat-maps-")
atexit.register(shutil.rmtree, SEAT_MAP_DIR, ignore_errors=True)


def base_config(database_url: str, **overrides) -> dict:
    """Settings for an app under test."""
    config = {
        "APP_ENV": "testing",
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "JWT_SECRET_KEY": JWT_TEST_SECRET,
        "SEAT_MAP_DIR": SEAT_MAP_DIR,
    }
    config.update(overrides)
    return config


DATABASES = ("sqlite", "postgresql")


def selected_databases() -> tuple[str, ...]:
    """The databases named in TEST_DATABASES (comma-separated, e.g. "sqlite"); both when it is unset.

    Raises ValueError for an unknown name, or when REQUIRE_POSTGRES is set and the choice leaves
    PostgreSQL out (a run that must test PostgreSQL cannot quietly skip it).
    """
    names = {name.strip().lower() for name in os.environ.get("TEST_DATABASES", "").split(",") if name.strip()}
    if not names:
        return DATABASES
    if unknown := names - set(DATABASES):
        raise ValueError(f"TEST_DATABASES names {sorted(unknown)}; choose from {', '.join(DATABASES)}")
    if "postgresql" not in names and os.environ.get("REQUIRE_POSTGRES"):
        raise ValueError("REQUIRE_POSTGRES is set but TEST_DATABASES leaves PostgreSQL out")
    return tuple(name for name in DATABASES if name in names)


def postgres_required() -> bool:
    """In CI (or when asked) an unreachable PostgreSQL fails the run instead of skipping."""
    return bool(os.environ.get("CI") or os.environ.get("REQUIRE_POSTGRES"))


def create_postgres_database(url: str) -> None:
    """Drop and create the test database named in `url`."""
    parsed = make_url(url)
    admin = parsed.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{parsed.database}"')
    except psycopg.OperationalError as error:
        message = f"PostgreSQL at {parsed.host}:{parsed.port} is not reachable: {error}"
        if postgres_required():
            pytest.fail(message)
        pytest.skip(message + " (set REQUIRE_POSTGRES=1 to make this a failure)")


def migrate(url: str) -> None:
    """Build the schema the way production does: `flask db upgrade`."""
    app = create_app(base_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def reset(url: str) -> None:
    """Empty every table between tests (the schema stays)."""
    engine = create_engine(url)
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
    engine.dispose()
