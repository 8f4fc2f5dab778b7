"""Faults against a real gunicorn server on PostgreSQL: killed workers, a restarted database,
two app instances on one database. No request that got a 200 is lost; no seat is sold twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from ticketing.extensions import db
from ticketing.models import Order, OrderSeat, Seat, Ticket, utcnow

from ..databases import POSTGRES_URL, create_postgres_database, migrate, reset
from ..gunicorn_server import servers
from ..race_support import Backdoor, at_once

pytestmark = pytest.mark.race


@pytest.fixture(scope="module")
def fault_database_url() -> str:
    """A PostgreSQL database of these tests' own (faults are a PostgreSQL matter)."""
    url = make_url(POSTGRES_URL).set(database="ticketing_test_faults").render_as_string(hide_password=False)
    create_postgres_database(url)
    migrate(url)
    return url


@pytest.fixture
def fault_backdoor(fault_database_url):
    door = Backdoor(fault_database_url)
    yield door
    door.close()
    reset(fault_database_url)


@pytest.fixture
def start_server(fault_database_url, tmp_path):
    with servers(fault_database_url, tmp_path) as start:
        yield start


class Shoppers:
    """Clients that lock and confirm free seats, and order and pay priced ones, recording every 200."""

    def __init__(self, urls: list[str], users: list[dict], free: list[int], priced: list[int], seconds: float):
        self.urls, self.users, self.free, self.priced = urls, users, free, priced
        self.deadline = time.monotonic() + seconds
        self.locks: list[tuple[int, int]] = []  # (seat, user) of every 200 lock
        self.confirms: list[tuple[int, str, int]] = []  # (seat, code, user) of every 200 confirm
        self.paid: dict[int, list[tuple[int, str]]] = {}  # order id -> [(seat, code)] of every 200 pay
        self.orders: list[tuple[int, int]] = []  # (order id, user) of every 201 order
        self.statuses: Counter = Counter()
        self.dropped = 0  # requests whose connection died with a worker
        self._record = threading.Lock()

    def _post(self, session, url, **kwargs):
        try:
            response = session.post(url, timeout=10, **kwargs)
        except requests.RequestException:
            with self._record:
                self.dropped += 1
            return None
        with self._record:
            self.statuses[response.status_code] += 1
        return response

    def run_one(self, index: int) -> None:
        user, rng = self.users[index], random.Random(index)
        headers = user["headers"]
        with requests.Session() as session:
            for _ in range(500):
                if time.monotonic() > self.deadline:
                    return
                base = self.urls[index % len(self.urls)]
                if rng.random() < 0.6:
                    seat = rng.choice(self.free)
                    locked = self._post(session, f"{base}/seats/{seat}/lock", headers=headers)
                    if locked is not None and locked.status_code == 200:
                        with self._record:
                            self.locks.append((seat, user["id"]))
                        done = self._post(session, f"{base}/seats/{seat}/confirm", headers=headers)
                        if done is not None and done.status_code == 200:
                            with self._record:
                                self.confirms.append((seat, done.json()["ticket"]["code"], user["id"]))
                else:
                    seats = rng.sample(self.priced, 2)
                    created = self._post(session, f"{base}/orders", json={"seat_ids": seats}, headers=headers)
                    if created is None or created.status_code != 201:
                        continue
                    order_id = created.json()["order"]["id"]
                    with self._record:
                        self.orders.append((order_id, user["id"]))
                    paid = self._post(
                        session,
                        f"{base}/orders/{order_id}/pay",
                        json={"payment_token": "tok_visa"},
                        headers={**headers, "Idempotency-Key": f"pay-{order_id}"},
                    )
                    if paid is not None and paid.status_code == 200:
                        tickets = [(t["seat_id"], t["code"]) for t in paid.json()["order"]["tickets"]]
                        with self._record:
                            self.paid[order_id] = sorted(tickets)

    def run(self, threads: int) -> None:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for future in [pool.submit(self.run_one, index) for index in range(threads)]:
                future.result()


def _audit(backdoor: Backdoor, shoppers: Shoppers) -> None:
    """Every 200 is in the database; no seat has two tickets; every lock ends within its hold time."""
    with backdoor.app.app_context():
        session = db.session
        tickets = session.execute(select(Ticket.seat_id, Ticket.code, Ticket.user_id, Ticket.order_id)).all()
        seats = {seat.id: seat for seat in session.scalars(select(Seat))}
        paid_orders = set(session.scalars(select(Order.id).where(Order.status == "paid")))
        order_ids = set(session.scalars(select(Order.id)))
    ticket_seats = [seat_id for seat_id, _, _, _ in tickets]
    assert len(ticket_seats) == len(set(ticket_seats)), "a seat was sold twice"
    stored = {(seat_id, code, user_id) for seat_id, code, user_id, _ in tickets}
    assert set(shoppers.confirms) <= stored, "a confirmed (200) ticket is missing"
    for order_id, tickets_paid in shoppers.paid.items():
        assert order_id in paid_orders, f"order {order_id} answered 200 paid but is not paid"
        assert set(tickets_paid) <= {(s, c) for s, c, _, o in tickets if o == order_id}
    assert {order_id for order_id, _ in shoppers.orders} <= order_ids, "a created (201) order is missing"
    for seat_id, user_id in shoppers.locks:
        # nobody releases in these runs and holds outlast them: a 200 lock is still that user's, or sold to them
        assert seats[seat_id].holder_id == user_id and seats[seat_id].status in ("locked", "booked"), seat_id
    latest_end = utcnow() + timedelta(seconds=CHECKOUT_SECONDS + 5)
    for seat in seats.values():
        if seat.status == "locked":
            assert seat.locked_until is not None and seat.locked_until <= latest_end, "a lock that never expires"


CHECKOUT_SECONDS = 600  # the default CHECKOUT_TTL_SECONDS the servers run with


def test_killed_workers_lose_nothing_and_are_replaced(start_server, fault_backdoor):
    server = start_server(WORKERS=3)
    free = fault_backdoor.event(rows="A-C", per_row=10)
    priced = fault_backdoor.event(rows="A-C", per_row=10, price_cents=1500)
    users = fault_backdoor.users(16)
    shoppers = Shoppers([server.url], users, free, priced, seconds=6)
    original = server.worker_pids()
    assert len(original) == 3

    killed: list[int] = []

    def killer() -> None:
        for delay in (1.5, 1.5):
            time.sleep(delay)
            victim = sorted(server.worker_pids())[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    chaos = threading.Thread(target=killer)
    chaos.start()
    shoppers.run(threads=16)
    chaos.join()

    assert len(killed) == 2
    assert not [status for status in shoppers.statuses if status >= 500], (shoppers.statuses, server.log()[-3000:])
    assert shoppers.confirms and shoppers.paid, shoppers.statuses
    _audit(fault_backdoor, shoppers)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and (len(server.worker_pids()) != 3 or set(killed) & server.worker_pids()):
        time.sleep(0.2)
    replaced = server.worker_pids()
    assert len(replaced) == 3 and not set(killed) & replaced, "the master did not replace the killed workers"
    assert requests.get(f"{server.url}/readyz", timeout=5).status_code == 200
    print(
        f"kill -9: {len(killed)} workers killed, {sum(shoppers.statuses.values())} answers "
        f"{dict(shoppers.statuses)}, {shoppers.dropped} requests cut off, {len(shoppers.confirms)} confirms "
        f"and {len(shoppers.paid)} paid orders all found"
    )


def _postgres(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            version,
            "main",
            action,
            *(["-m", "fast"] if action == "stop" else []),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _wait_for_postgres(up: bool, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode == 0
        if ready == up:
            return
        time.sleep(0.2)
    raise AssertionError(f"PostgreSQL did not become {'ready' if up else 'unreachable'}")


@pytest.fixture
def postgres_restarts():
    """Lets a test stop PostgreSQL; it is running again afterwards, whatever happened."""
    if os.geteuid() != 0:
        pytest.fail("stopping PostgreSQL needs root (pg_ctlcluster); run the suite as root, as CI does")
    yield _postgres
    if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode != 0:
        _postgres("start")
        _wait_for_postgres(up=True)


def test_restarted_database_gives_clean_503s_then_recovers(start_server, fault_backdoor, postgres_restarts):
    server = start_server(WORKERS=2)
    seats = fault_backdoor.event(rows="A", per_row=6)
    user = fault_backdoor.users(1)[0]
    assert requests.post(f"{server.url}/seats/{seats[0]}/lock", headers=user["headers"]).status_code == 200

    postgres_restarts("stop")
    _wait_for_postgres(up=False)
    down = [
        requests.get(f"{server.url}/readyz", timeout=10),
        requests.get(f"{server.url}/events", timeout=10),
        requests.get(f"{server.url}/seats/{seats[1]}", timeout=10),
        requests.post(f"{server.url}/seats/{seats[1]}/lock", headers=user["headers"], timeout=10),
        requests.post(f"{server.url}/orders", json={"seat_ids": [seats[2]]}, headers=user["headers"], timeout=10),
    ]
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200, "the process itself is up"
    for response in down:
        assert response.status_code == 503, (response.request.url, response.status_code, response.text)
        assert response.json()["code"] in ("database_unavailable", "busy")
        assert "Traceback" not in response.text and "psycopg" not in response.text

    postgres_restarts("start")
    _wait_for_postgres(up=True)
    recovered = None
    for _ in range(50):  # the first requests after the restart may meet stale pooled connections
        recovered = requests.post(f"{server.url}/seats/{seats[1]}/lock", headers=user["headers"], timeout=10)
        if recovered.status_code != 503:
            break
        time.sleep(0.2)
    assert recovered.status_code == 200, recovered.text
    assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
    assert requests.post(f"{server.url}/seats/{seats[1]}/confirm", headers=user["headers"]).status_code == 200
    assert server.process.poll() is None, "the service was not restarted"


def test_two_app_instances_on_one_database_never_double_book(start_server, fault_backdoor):
    first, second = start_server(WORKERS=2), start_server(WORKERS=2)
    free = fault_backdoor.event(rows="A-B", per_row=10)
    priced = fault_backdoor.event(rows="A-B", per_row=10, price_cents=900)
    hot_seat = fault_backdoor.event(rows="A", per_row=1)[0]
    users = fault_backdoor.users(40)

    responses = at_once(
        [
            (
                lambda s, i=i, user=user: s.post(
                    f"{(first, second)[i % 2].url}/seats/{hot_seat}/lock", headers=user["headers"]
                )
            )
            for i, user in enumerate(users)
        ]
    )
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 39}

    shoppers = Shoppers([first.url, second.url], users[:20], free, priced, seconds=5)
    shoppers.run(threads=20)
    assert not [status for status in shoppers.statuses if status >= 500], shoppers.statuses
    assert shoppers.confirms and shoppers.paid
    _audit(fault_backdoor, shoppers)
    with fault_backdoor.app.app_context():
        sold = db.session.scalar(select(func.count(Ticket.id)))
        in_orders = db.session.scalar(select(func.count()).select_from(OrderSeat))
    print(
        f"two instances: {sum(shoppers.statuses.values())} answers {dict(shoppers.statuses)}, "
        f"{sold} tickets, {in_orders} order seats, no seat twice"
    )
