"""The app through a real PgBouncer in transaction mode (docs/deploy/pgbouncer.ini, Debian's
PgBouncer 1.18) with DATABASE_POOLER=pgbouncer: bookings and payments work, a hot seat has one
winner, lock_timeout holds inside every transaction, and no prepared statement goes astray."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import requests
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from ticketing import create_app
from ticketing.extensions import db

from ..databases import base_config, reset
from ..gunicorn_server import Server
from ..race_support import Backdoor, at_once
from .deploy_support import PostgresLog, need, own_database
from .proxies import PgBouncer

pytestmark = pytest.mark.race

LOCK_TIMEOUT_MS = 1500


@pytest.fixture(scope="module")
def database_url() -> str:
    return own_database("pgbouncer")


@pytest.fixture(scope="module")
def pgbouncer(database_url):
    directory = Path(tempfile.mkdtemp(prefix="ticketing-pgbouncer-"))
    bouncer = need(lambda: PgBouncer(directory, database_url))
    try:
        yield bouncer
    finally:
        bouncer.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def server(database_url, pgbouncer):
    directory = Path(tempfile.mkdtemp(prefix="ticketing-pgbouncer-app-"))
    app = Server(
        pgbouncer.url(database_url),
        log_path=directory / "gunicorn.log",
        WORKERS=2,
        THREADS=8,
        DATABASE_POOLER="pgbouncer",
        LOCK_TIMEOUT_MS=LOCK_TIMEOUT_MS,
    )
    try:
        yield app
    finally:
        app.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def backdoor(database_url):
    door = Backdoor(database_url)
    yield door
    door.close()
    reset(database_url)


@pytest.fixture
def postgres_log(database_url):
    return PostgresLog(database_url)


def _no_prepared_statement_trouble(server, pgbouncer, postgres_log) -> None:
    for name, log in (("gunicorn", server.log()), ("pgbouncer", pgbouncer.log())):
        assert "prepared statement" not in log, f"{name}'s log:\n{log[-3000:]}"
    assert not [line for line in postgres_log.lines() if "prepared statement" in line]


def test_bookings_and_payments_through_pgbouncer(server, pgbouncer, backdoor, postgres_log):
    free = backdoor.event(rows="A-D", per_row=10)
    priced = backdoor.event(rows="A-D", per_row=10, price_cents=2500)
    users = backdoor.users(8)
    statuses: Counter = Counter()
    confirmed, paid = [], {}
    record = threading.Lock()

    def shop(index: int) -> None:
        # Each user repeats the same statements many times: far past psycopg's threshold (5) for
        # preparing a statement on a connection, over server connections PgBouncer keeps switching.
        user, base = users[index], server.url
        with requests.Session() as session:
            for round_ in range(5):
                seat = free[index * 5 + round_]
                for path in (f"/seats/{seat}/lock", f"/seats/{seat}/lock", f"/seats/{seat}/confirm"):
                    answer = session.post(base + path, headers=user["headers"], timeout=20)
                    with record:
                        statuses[(path.rsplit("/", 1)[1], answer.status_code)] += 1
                if answer.status_code == 200:
                    with record:
                        confirmed.append((seat, answer.json()["ticket"]["code"], user["id"]))
                seats = priced[index * 5 + round_ : index * 5 + round_ + 1]
                order = session.post(f"{base}/orders", json={"seat_ids": seats}, headers=user["headers"], timeout=20)
                with record:
                    statuses[("order", order.status_code)] += 1
                if order.status_code != 201:
                    continue
                order_id = order.json()["order"]["id"]
                payment = session.post(
                    f"{base}/orders/{order_id}/pay",
                    json={"payment_token": "tok_visa"},
                    headers={**user["headers"], "Idempotency-Key": f"pay-{order_id}"},
                    timeout=20,
                )
                with record:
                    statuses[("pay", payment.status_code)] += 1
                    if payment.status_code == 200:
                        paid[order_id] = payment.json()["order"]["tickets"]

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        list(pool.map(shop, range(len(users))))

    assert statuses == {("lock", 200): 80, ("confirm", 200): 40, ("order", 201): 40, ("pay", 200): 40}, (
        statuses,
        server.log()[-3000:],
    )
    stored = set(backdoor.tickets())
    assert set(confirmed) <= stored
    assert {ticket["seat_id"] for tickets in paid.values() for ticket in tickets} == set(priced[:40])
    assert backdoor.seat_statuses(free[:40]) == dict.fromkeys(free[:40], "booked")
    _no_prepared_statement_trouble(server, pgbouncer, postgres_log)


def test_a_hot_seat_through_pgbouncer_has_one_winner(server, pgbouncer, backdoor, postgres_log):
    seat = backdoor.event(per_row=4)[2]
    users = backdoor.users(100)

    answers = at_once(
        [
            (lambda session, user=user: session.post(f"{server.url}/seats/{seat}/lock", headers=user["headers"]))
            for user in users
        ]
    )

    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {200: 1, 409: 99}, (statuses, server.log()[-3000:])
    assert {answer.json()["code"] for answer in answers if answer.status_code == 409} == {"seat_locked"}
    _no_prepared_statement_trouble(server, pgbouncer, postgres_log)


def test_lock_timeout_holds_in_every_transaction_and_only_there(database_url, pgbouncer):
    app = create_app(base_config(pgbouncer.url(database_url), DATABASE_POOLER="pgbouncer", LOCK_TIMEOUT_MS=1500))
    try:
        with app.app_context():
            for _ in range(3):  # a new transaction each time, maybe on another server connection
                assert db.session.execute(text("SHOW lock_timeout")).scalar() == "1500ms"
                db.session.commit()
    finally:
        with app.app_context():
            db.engine.dispose()
    # SET LOCAL ended with each transaction: the next client of those server connections gets
    # PostgreSQL's own setting, not the app's.
    direct = make_url(pgbouncer.url(database_url)).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(direct, prepare_threshold=None) as connection:
        assert connection.execute("SHOW lock_timeout").fetchone()[0] == "0"


def test_a_lock_wait_through_pgbouncer_ends_in_503_busy(server, backdoor, database_url):
    seat = backdoor.event(per_row=3)[0]
    user = backdoor.users(1)[0]
    direct = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(direct) as holder:
        holder.execute("SELECT id FROM seats WHERE id = %s FOR UPDATE", (seat,))  # held until the block ends

        # Without the bound the request would wait for the row as long as the holder keeps it.
        answer = requests.post(f"{server.url}/seats/{seat}/lock", headers=user["headers"], timeout=25)

        assert answer.status_code == 503 and answer.json()["code"] == "busy", answer.text
        assert answer.headers["Retry-After"] == "1"
    assert requests.post(f"{server.url}/seats/{seat}/lock", headers=user["headers"], timeout=10).status_code == 200


def test_the_direct_mode_through_pgbouncer_is_refused_loudly(database_url, pgbouncer):
    # DATABASE_POOLER=none sends lock_timeout as a startup option; the documented PgBouncer does
    # not ignore it (which would drop the bound silently) but refuses the connection.
    app = create_app(base_config(pgbouncer.url(database_url), DATABASE_POOLER="none"))
    try:
        with app.app_context(), pytest.raises(OperationalError, match="unsupported startup parameter: options"):
            db.session.execute(text("SELECT 1"))
    finally:
        with app.app_context():
            db.session.rollback()
            db.engine.dispose()
