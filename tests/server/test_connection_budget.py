"""Past the connection budget the answers stay JSON `503 busy`: a worker whose pool is all in use,
and a PostgreSQL that refuses one more connection (too many connections for the role)."""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import requests
from sqlalchemy.engine import make_url

from ..databases import reset
from ..gunicorn_server import Server
from ..race_support import Backdoor
from ..waiting import wait_until
from .deploy_support import own_database

pytestmark = pytest.mark.race


@pytest.fixture(scope="module")
def database_url() -> str:
    return own_database("budget")


@pytest.fixture
def backdoor(database_url):
    door = Backdoor(database_url)
    yield door
    door.close()
    reset(database_url)


@pytest.fixture
def start_server(database_url):
    directory = Path(tempfile.mkdtemp(prefix="ticketing-budget-"))
    started: list[Server] = []

    def start(url: str = database_url, **settings) -> Server:
        server = Server(url, log_path=directory / f"gunicorn-{len(started)}.log", WORKERS=1, THREADS=4, **settings)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def _request_stuck_on_a_row_lock(database_url: str, server: Server, seat: int, headers: dict):
    """A lock request that holds its database connection while it waits for a seat's row, which
    the test holds; yields the pending answer, released (and answered) when the block ends."""
    url = _libpq(database_url)
    with (
        psycopg.connect(url) as holder,
        psycopg.connect(url, autocommit=True) as watcher,  # pg_stat_activity stays still inside a transaction
        ThreadPoolExecutor(1) as pool,
    ):
        holder.execute("SELECT id FROM seats WHERE id = %s FOR UPDATE", (seat,))
        pending = pool.submit(requests.post, f"{server.url}/seats/{seat}/lock", headers=headers, timeout=30)
        wait_until(
            lambda: (
                watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                    " AND (query LIKE '%%seats%%' OR query LIKE '%%hold_seat(%%')"  # the hold's UPDATE, or a row lock
                ).fetchone()[0]
                == 1
            ),
            timeout=15,
            message="the lock request never waited on the seat's row",
        )
        yield pending
        holder.rollback()


def _assert_busy(answer: requests.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["code"] == "busy" and answer.json()["message"]
    assert answer.headers["Retry-After"] == "1"


def test_a_worker_whose_pool_is_all_in_use_answers_503_busy(start_server, backdoor, database_url):
    server = start_server(
        DATABASE_POOL_SIZE=1, DATABASE_MAX_OVERFLOW=0, DATABASE_POOL_TIMEOUT_MS=300, LOCK_TIMEOUT_MS=20000
    )
    seats = backdoor.event(per_row=3)
    user = backdoor.users(1)[0]

    with _request_stuck_on_a_row_lock(database_url, server, seats[0], user["headers"]) as pending:
        _assert_busy(requests.get(f"{server.url}/seats/{seats[1]}", timeout=10))
    assert pending.result().status_code == 200  # the waiting request got its seat once the row was free
    assert requests.get(f"{server.url}/seats/{seats[1]}", timeout=10).status_code == 200
    # The worker said at start what it may open (and that its pool is smaller than its threads).
    assert "this worker keeps 1 and opens at most 1" in server.log()
    assert "answers 503 busy" in server.log()


@pytest.fixture
def limited_role(database_url):
    """A login role of its own for the app (PostgreSQL's connection limits spare superusers)."""
    role = f"{make_url(database_url).database}_limited"
    admin = _libpq(database_url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP ROLE IF EXISTS "{role}"')
        connection.execute(f'CREATE ROLE "{role}" LOGIN')
        connection.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
        connection.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    try:
        yield role
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
            connection.execute(f'DROP OWNED BY "{role}"')
            connection.execute(f'DROP ROLE "{role}"')


def test_too_many_connections_at_postgresql_answers_503_busy(start_server, backdoor, database_url, limited_role):
    server = start_server(make_url(database_url).set(username=limited_role).render_as_string(hide_password=False))
    seat = backdoor.event(per_row=3)[0]
    with psycopg.connect(_libpq(database_url), autocommit=True) as admin:
        # No room for the app's role at all: its open connections end, and every new one is refused.
        admin.execute(f'ALTER ROLE "{limited_role}" CONNECTION LIMIT 0')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (limited_role,))

        for _ in range(3):
            _assert_busy(requests.get(f"{server.url}/seats/{seat}", timeout=10))

        admin.execute(f'ALTER ROLE "{limited_role}" CONNECTION LIMIT -1')
    assert requests.get(f"{server.url}/seats/{seat}", timeout=10).status_code == 200
    assert "database connection refused: no room" in server.log()
