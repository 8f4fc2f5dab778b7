"""Fixtures: every test runs once on SQLite and once on PostgreSQL (TEST_DATABASES=sqlite: SQLite only)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
from werkzeug.security import generate_password_hash

from ticketing import create_app
from ticketing.extensions import db
from ticketing.models import utcnow
from ticketing.services import auth as auth_service
from ticketing.services.seats import hold_seat
from ticketing.services.seeding import parse_rows, seed_event

from .databases import (
    DATABASES,
    POSTGRES_URL,
    base_config,
    create_postgres_database,
    migrate,
    reset,
    selected_databases,
)
from .gunicorn_server import servers
from .helpers import TEST_LIMITS
from .organizers import Organizers
from .race_support import Backdoor

_emails = itertools.count(1)
PASSWORD = "correct horse battery"


def pytest_configure(config) -> None:
    """Refuse a TEST_DATABASES choice that names no known database or contradicts REQUIRE_POSTGRES."""
    try:
        selected_databases()
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_collection_modifyitems(config, items) -> None:
    """Deselect the tests on databases that TEST_DATABASES leaves out (they still count as collected)."""
    chosen = selected_databases()
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        database = callspec.params.get("database_url") if callspec else None
        (drop if database is not None and database not in chosen else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
    else:
        url = POSTGRES_URL
        create_postgres_database(url)
    migrate(url)
    yield url


def _quick_scrypt(password: str, method: str = "scrypt", salt_length: int = 16) -> str:
    """scrypt at a low work factor: the same kind of hash, stored and checked the same way, in ~5 ms."""
    return generate_password_hash(
        password, method="scrypt:1024:8:1" if method == "scrypt" else method, salt_length=salt_length
    )


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch) -> None:
    """New passwords are hashed cheaply in tests (checks read the factor from the stored hash).

    Production's factor costs ~0.2 s per hash and again per login, and most tests register and log in
    several users: that alone was half of the in-process tests' time. The factor is not under test.
    """
    monkeypatch.setattr(auth_service, "generate_password_hash", _quick_scrypt)


@pytest.fixture
def settings() -> dict:
    """Per-test overrides of the app's settings (a test may change them before using `app`)."""
    return {}


@pytest.fixture
def app(database_url, settings):
    app = create_app(base_config(database_url, **settings))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    reset(database_url)


@pytest.fixture
def client(app):
    return app.test_client()


class Api:
    """The test client plus the steps most tests need (register, log in, seed)."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def register(self, email: str | None = None, password: str = PASSWORD, name: str | None = None) -> dict:
        email = email or f"user{next(_emails)}@example.com"
        response = self.client.post("/auth/register", json={"email": email, "password": password, "name": name})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["user"]

    def login(self, email: str, password: str = PASSWORD) -> dict:
        response = self.client.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def user(self) -> dict:
        """A new user: `{"id", "email", "headers", "tokens"}` with Bearer headers ready."""
        user = self.register()
        tokens = self.login(user["email"])
        return {**user, "tokens": tokens, "headers": {"Authorization": f"Bearer {tokens['access_token']}"}}

    def seed(
        self, name: str = "Show", rows: str = "A-B", per_row: int = 5, price_cents: int = 0, currency: str = "USD"
    ) -> dict:
        """An event; returns `{"id", "seat_ids"}` (seat ids in label order A1, A2, ...)."""
        with self.app.app_context():
            event = seed_event(
                name=name,
                rows=parse_rows(rows),
                per_row=per_row,
                price_cents=price_cents,
                currency=currency,
                starts_at=None,
            )
        seats = self.client.get(f"/events/{event.id}/seats").get_json()["seats"]
        return {"id": event.id, "seat_ids": [seat["id"] for seat in seats]}

    def lock_taken_ago(self, user_id: int, seat_id: int, seconds_ago: int, hold_seconds: int = 60) -> None:
        """Lock the seat as if at `seconds_ago` (past `hold_seconds`, it has run out with no clean-up)."""
        with self.app.app_context():
            taken_at = utcnow() - timedelta(seconds=seconds_ago)
            hold_seat(
                user_id=user_id,
                seat_id=seat_id,
                clock=lambda: taken_at,
                hold_seconds=hold_seconds,
                limits=TEST_LIMITS,
            )


@pytest.fixture
def api(app, client) -> Api:
    return Api(app, client)


@pytest.fixture
def organizers(api) -> Organizers:
    """Organizations, venues and events made through the API (tests/organizers.py)."""
    return Organizers(api)


@pytest.fixture
def server_factory(database_url, tmp_path):
    """Start real gunicorn servers on the test database: `server_factory(HOLD_TTL_SECONDS=1)`."""
    with servers(database_url, tmp_path) as start:
        yield start
    reset(database_url)


@pytest.fixture
def backdoor(database_url):
    """Direct database access for race tests' set-up and final audit."""
    door = Backdoor(database_url)
    yield door
    door.close()
