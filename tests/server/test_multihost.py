"""Three app hosts behind HAProxy, one PostgreSQL behind PgBouncer (tests/server/cluster.py: the
documented configurations, hosts in network namespaces): races decided once across hosts, the
change feed complete across hosts, and a host killed with `kill -9` mid-sale losing no answered
request."""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import requests
from sqlalchemy import select

from ticketing.extensions import db
from ticketing.models import Order, OrderSeat, Seat, Ticket

from ..databases import JWT_TEST_SECRET, reset
from ..race_support import Backdoor, at_once
from ..waiting import wait_until
from .cluster import Cluster
from .deploy_support import PostgresLog, need, own_database

pytestmark = pytest.mark.race


@pytest.fixture(scope="module")
def database_url() -> str:
    return own_database("multihost")


@pytest.fixture(scope="module")
def hosts(database_url):
    """The running cluster; the kill test (last in this file) leaves one host dead."""
    postgres_log = PostgresLog(database_url)
    running = need(lambda: Cluster(database_url, JWT_TEST_SECRET, count=3))
    try:
        print(f"\n{len(running.hosts)} hosts on {running.network.kind}: {[host.url for host in running.hosts]}")
        yield running
        # Nothing went astray through PgBouncer over the whole module.
        for host in running.hosts:
            assert "prepared statement" not in host.log(), host.log()[-3000:]
        assert "prepared statement" not in running.pgbouncer.log()
        assert not [line for line in postgres_log.lines() if "prepared statement" in line]
    finally:
        running.close()


@pytest.fixture
def backdoor(database_url):
    door = Backdoor(database_url)
    yield door
    door.close()
    reset(database_url)


def _served_by(hosts: Cluster, path: str | None = None) -> list[int]:
    """How many requests (for `path`, or any) each host's access log shows."""
    pattern = rf'"path": "{re.escape(path)}"' if path else '"path": "'
    return [len(re.findall(pattern, host.log())) for host in hosts.hosts]


def test_a_hot_seat_has_one_winner_across_hosts(hosts, backdoor):
    seats = backdoor.event(per_row=10)
    users = backdoor.users(300)
    for seat in seats[:3]:
        answers = at_once(
            [
                (
                    lambda session, user=user, seat=seat: session.post(
                        f"{hosts.url}/seats/{seat}/lock", headers=user["headers"]
                    )
                )
                for user in users
            ]
        )

        statuses = Counter(answer.status_code for answer in answers)
        assert statuses == {200: 1, 409: 299}, (
            statuses,
            Counter(answer.text[:120] for answer in answers if answer.status_code >= 500),
            hosts.logs(),
        )
        assert {answer.json()["code"] for answer in answers if answer.status_code == 409} == {"seat_locked"}
        winner = next(user for user, answer in zip(users, answers, strict=True) if answer.status_code == 200)
        with backdoor.app.app_context():
            assert db.session.get(Seat, seat).holder_id == winner["id"]
        served = _served_by(hosts, f"/seats/{seat}/lock")
        assert sum(served) == 300 and all(served), f"not spread over the hosts: {served}"
    # The hosts saw the client's address (HAProxy's X-Forwarded-For, PROXY_COUNT=1), not HAProxy's.
    assert '"remote_addr": "127.0.0.1"' in hosts.hosts[0].log()


def test_overlapping_orders_have_one_winner_per_round(hosts, backdoor):
    seats = backdoor.event(rows="A-H", per_row=20, price_cents=2000)
    users = backdoor.users(30)
    for round_ in range(5):
        contested = seats[round_]
        # Everyone wants the contested seat and one seat nobody else asks for.
        wanted = [[contested, seats[10 + round_ * 30 + index]] for index in range(len(users))]
        answers = at_once(
            [
                (
                    lambda session, user=user, seat_ids=seat_ids: session.post(
                        f"{hosts.url}/orders", json={"seat_ids": seat_ids}, headers=user["headers"]
                    )
                )
                for user, seat_ids in zip(users, wanted, strict=True)
            ]
        )

        statuses = Counter(answer.status_code for answer in answers)
        assert statuses == {201: 1, 409: 29}, (statuses, hosts.logs())
        refused = [answer.json() for answer in answers if answer.status_code == 409]
        assert all(body["code"] == "seats_unavailable" for body in refused), refused
        assert all(body["details"]["unavailable"] == [contested] for body in refused), refused
        with backdoor.app.app_context():
            holders = db.session.scalars(select(OrderSeat.order_id).where(OrderSeat.seat_id == contested)).all()
        assert len(holders) == 1


def test_a_lock_on_one_host_is_in_the_feed_on_another_within_two_seconds(hosts, backdoor):
    event_seats = backdoor.event(per_row=10)
    user = backdoor.users(1)[0]
    first, second, third = hosts.hosts
    event = requests.get(f"{first.url}/seats/{event_seats[0]}", timeout=5).json()["seat"]["event_id"]
    cursors = {
        host.name: requests.get(f"{host.url}/events/{event}/changes", timeout=5).json()["cursor"]
        for host in (second, third)
    }

    with ThreadPoolExecutor(2) as pool:
        # Held requests on two other hosts, each answering at the first change or after 2 s with none.
        waiting = {
            host.name: pool.submit(
                requests.get, f"{host.url}/events/{event}/changes?since={cursors[host.name]}&wait=2", timeout=10
            )
            for host in (second, third)
        }
        locked = requests.post(f"{first.url}/seats/{event_seats[4]}/lock", headers=user["headers"], timeout=10)
        assert locked.status_code == 200

        for name, answer in waiting.items():
            changes = answer.result().json()["changes"]
            assert {"seat_id": event_seats[4], "status": "locked"} in changes, (name, changes)


@dataclass
class Load:
    """Clients through HAProxy: lock then confirm free seats, order then pay priced ones. Every
    answer is recorded; a request that got no answer from the app (no response at all, or HAProxy's
    own 502/504) is kept, to be asked again the way docs/deploy/multi-host.md tells clients to."""

    base: str
    users: list[dict]
    free: list[int]
    priced: list[int]
    locks: list[tuple[int, int]] = field(default_factory=list)  # (seat, user) of every 200 lock
    confirms: list[tuple[int, str, int]] = field(default_factory=list)  # (seat, code, user) of every 200 confirm
    orders: list[tuple[int, int]] = field(default_factory=list)  # (order, user) of every 201 order
    paid: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # order -> [(seat, code)] of every 200 pay
    statuses: Counter = field(default_factory=Counter)
    unanswered: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # 5xx answers of the app itself
    _record: threading.Lock = field(default_factory=threading.Lock)

    def call(self, session, kind: str, user: dict, path: str, **details):
        """POST and record; returns the answer, or None when the app's answer never came."""
        started = time.monotonic()
        try:
            answer = session.post(
                self.base + path,
                headers={**user["headers"], **details.pop("headers", {})},
                json=details.get("body"),
                timeout=20,
            )
        except requests.RequestException as error:
            answer, what = None, error.__class__.__name__
        else:
            what = answer.status_code
        ended = time.monotonic()
        with self._record:
            self.statuses[(kind, what)] += 1
            if answer is None or answer.status_code in (502, 504):
                self.unanswered.append(
                    {
                        "kind": kind,
                        "user": user,
                        "path": path,
                        "what": what,
                        "started": started,
                        "ended": ended,
                        **details,
                    }
                )
                return None
            if answer.status_code >= 500:
                self.failures.append(f"{kind} {path}: {answer.status_code} {answer.text[:200]}")
        return answer

    def shop(self, index: int, stop: threading.Event) -> None:
        user, rng = self.users[index], random.Random(index)
        with requests.Session() as session:
            while not stop.is_set():
                if rng.random() < 0.6:
                    self.lock_and_confirm(session, user, rng.choice(self.free))
                else:
                    self.order_and_pay(session, user, rng.sample(self.priced, 2))

    def lock_and_confirm(self, session, user: dict, seat: int):
        locked = self.call(session, "lock", user, f"/seats/{seat}/lock", seat=seat)
        if locked is not None and locked.status_code == 200:
            with self._record:
                self.locks.append((seat, user["id"]))
            self.confirm(session, user, seat)
        return locked

    def confirm(self, session, user: dict, seat: int):
        done = self.call(session, "confirm", user, f"/seats/{seat}/confirm", seat=seat)
        if done is not None and done.status_code == 200:
            with self._record:
                self.confirms.append((seat, done.json()["ticket"]["code"], user["id"]))
        return done

    def order_and_pay(self, session, user: dict, seats: list[int]) -> None:
        created = self.call(session, "order", user, "/orders", body={"seat_ids": seats}, seats=seats)
        if created is not None and created.status_code == 201:
            order = created.json()["order"]["id"]
            with self._record:
                self.orders.append((order, user["id"]))
            self.pay(session, user, order)

    def pay(self, session, user: dict, order: int):
        paid = self.call(
            session,
            "pay",
            user,
            f"/orders/{order}/pay",
            body={"payment_token": "tok_visa"},
            headers={"Idempotency-Key": f"pay-{order}"},
            order=order,
        )
        if paid is not None and paid.status_code == 200:
            with self._record:
                self.paid[order] = sorted((t["seat_id"], t["code"]) for t in paid.json()["order"]["tickets"])
        return paid

    def ask_again(self, lost: dict) -> str:
        """What a client does when its answer never came (docs/deploy/multi-host.md); returns what it got."""
        user, kind = lost["user"], lost["kind"]
        with requests.Session() as session:
            if kind == "lock":
                answer = self.lock_and_confirm(session, user, lost["seat"])  # locking again renews a lock taken
            elif kind == "confirm":
                answer = self.confirm(session, user, lost["seat"])  # seat_booked if the first one went through
            elif kind == "pay":
                answer = self.pay(session, user, lost["order"])  # the same Idempotency-Key: never charged twice
            else:
                # An order is not made again blindly: the client looks for it among its orders first.
                mine = session.get(f"{self.base}/orders", headers=user["headers"], timeout=20).json()["orders"]
                made = [order for order in mine if sorted(order["seat_ids"]) == sorted(lost["seats"])]
                for order in made:
                    with self._record:
                        self.orders.append((order["id"], user["id"]))
                    self.pay(session, user, order["id"])
                return f"order {'found, paid' if made else 'not made'}"
        if answer is None:
            return f"{kind}: no answer again"
        return f"{kind} {answer.status_code}" + ("" if answer.ok else f" {answer.json()['code']}")


def _audit(backdoor: Backdoor, load: Load) -> None:
    """Every 200 (and 201) is in the database; no seat has two tickets."""
    with backdoor.app.app_context():
        tickets = db.session.execute(select(Ticket.seat_id, Ticket.code, Ticket.user_id, Ticket.order_id)).all()
        seats = {seat.id: seat for seat in db.session.scalars(select(Seat))}
        orders = {order.id: order.status for order in db.session.scalars(select(Order))}
    ticket_seats = [seat for seat, _, _, _ in tickets]
    assert len(ticket_seats) == len(set(ticket_seats)), "a seat was sold twice"
    stored = {(seat, code, user) for seat, code, user, _ in tickets}
    assert not set(load.confirms) - stored, "a confirmed (200) ticket is missing"
    for order, paid_tickets in load.paid.items():
        assert orders.get(order) == "paid", f"order {order} answered 200 paid but is {orders.get(order)}"
        assert set(paid_tickets) <= {(seat, code) for seat, code, _, in_order in tickets if in_order == order}
    assert {order for order, _ in load.orders} <= set(orders), "a created (201) order is missing"
    for seat, user in load.locks:
        # Nobody releases here and holds outlast the run: a 200 lock is still its user's, or sold to them.
        assert seats[seat].holder_id == user and seats[seat].status in ("locked", "booked"), seat
    for lost in load.unanswered:
        if lost["kind"] == "confirm":
            # Asked again, a confirm whose answer was lost ends with the seat sold to its user, once.
            assert (lost["seat"], lost["user"]["id"]) in {(seat, user) for seat, _, user, _ in tickets}, lost


def test_a_host_killed_mid_sale_loses_no_answered_request(hosts, backdoor):
    free = backdoor.event(rows="A-J", per_row=30)
    priced = backdoor.event(rows="A-J", per_row=30, price_cents=1500)
    load = Load(hosts.url, backdoor.users(24), free, priced)
    victim = hosts.hosts[1]
    stop = threading.Event()

    def answers() -> int:
        return sum(load.statuses.values())

    with ThreadPoolExecutor(len(load.users)) as pool:
        shoppers = [pool.submit(load.shop, index, stop) for index in range(len(load.users))]
        try:
            wait_until(
                lambda: all(count >= 10 for count in _served_by(hosts)),
                timeout=60,
                message="the load did not reach every host",
            )
            killed_at = time.monotonic()
            killed = victim.kill()
            dead_at = time.monotonic()  # no process of the host is left from here on
            answers_at_kill = answers()
            wait_until(
                lambda: "app2 is DOWN" in hosts.haproxy.log(),
                timeout=10,
                interval=0.01,
                message="HAProxy never marked the killed host down",
            )
            down_after = time.monotonic() - killed_at
            # The sale goes on on the other hosts for a while.
            wait_until(lambda: answers() >= answers_at_kill + 150, timeout=60, message="the load stalled")
        finally:
            stop.set()
            for shopper in shoppers:
                shopper.result()

    in_flight = [lost for lost in load.unanswered if lost["started"] < dead_at]
    late = [
        (lost["kind"], lost["what"], round(lost["started"] - dead_at, 4), round(lost["ended"] - dead_at, 4))
        for lost in load.unanswered
        if lost["started"] >= dead_at
    ]
    # Requests sent after the kill found a live host (retried and redispatched by HAProxy); only the
    # ones in flight on the killed host lost their answer.
    assert not late, (late, hosts.logs())
    assert not load.failures, (load.failures, hosts.logs())
    statuses = dict(sorted((f"{kind} {what}", count) for (kind, what), count in load.statuses.items()))
    asked_again = Counter(load.ask_again(lost) for lost in in_flight)
    # Asked again, every one of them found a live host and a definite answer.
    assert len(load.unanswered) == len(in_flight) and not load.failures, (load.unanswered, load.failures)
    _audit(backdoor, load)
    assert load.confirms and load.paid
    print(
        f"\nkill -9 of {victim.name} ({len(killed)} processes) under {len(load.users)} clients: HAProxy marked it "
        f"down {down_after:.2f} s later; {sum(load.statuses.values())} answers {statuses}; "
        f"{len(in_flight)} requests in flight on it lost their answer "
        f"({dict(Counter(str(lost['what']) for lost in in_flight))}), asked again: {dict(asked_again)}; "
        f"all {len(load.locks)} locks, {len(load.confirms)} confirms, "
        f"{len(load.orders)} orders and {len(load.paid)} paid orders answered 200/201 are in the database"
    )
