"""Order races against a real gunicorn server with real threads, on both databases."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from ticketing.extensions import db
from ticketing.models import Order, OrderSeat, Payment

from ..race_support import at_once

pytestmark = pytest.mark.race


def test_overlapping_orders_in_different_orders_one_winner_per_round(server_factory, backdoor):
    # A user may win several rounds and so hold many seats: the hold limit is not under test here.
    server = server_factory(MAX_SEATS_PER_USER=1000)
    users = backdoor.users(12)
    seat_ids = backdoor.event(rows="A-E", per_row=8, price_cents=1000)
    rng = random.Random(7)
    for round_number in range(10):
        pool = seat_ids[round_number * 4 : round_number * 4 + 4]
        contested = pool[0]
        bodies = []
        for _ in users:
            others = rng.sample(pool[1:], rng.randint(1, 3))
            chosen = [contested, *others]
            rng.shuffle(chosen)  # every order lists its seats differently: lock order must not matter
            bodies.append(chosen)
        responses = at_once(
            [
                (
                    lambda s, user=user, body=body: s.post(
                        f"{server.url}/orders", json={"seat_ids": body}, headers=user["headers"]
                    )
                )
                for user, body in zip(users, bodies, strict=True)
            ]
        )
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {201: 1, 409: 11}, (round_number, statuses, server.log()[-2000:])
        assert {r.json()["code"] for r in responses if r.status_code == 409} == {"seats_unavailable"}
        for response, body in zip(responses, bodies, strict=True):
            if response.status_code == 409:
                unavailable = set(response.json()["details"]["unavailable"])
                assert contested in unavailable and unavailable <= set(body)


def test_same_idempotency_key_at_the_same_instant_charges_once(server_factory, backdoor):
    server = server_factory()
    user = backdoor.users(1)[0]
    seat_ids = backdoor.event(rows="A", per_row=3, price_cents=4200)
    order = requests.post(f"{server.url}/orders", json={"seat_ids": seat_ids}, headers=user["headers"]).json()["order"]
    headers = {**user["headers"], "Idempotency-Key": "double-click"}

    responses = at_once(
        [
            (
                lambda s: s.post(
                    f"{server.url}/orders/{order['id']}/pay", json={"payment_token": "tok_visa"}, headers=headers
                )
            )
            for _ in range(8)
        ]
    )

    assert [response.status_code for response in responses] == [200] * 8, [r.text for r in responses]
    assert len({response.text for response in responses}) == 1, "every answer is the first answer"
    with backdoor.app.app_context():
        payments = db.session.scalars(select(Payment).where(Payment.order_id == order["id"])).all()
    assert [(payment.status, payment.attempt) for payment in payments] == [("succeeded", 1)]
    assert sorted(t["seat_id"] for t in responses[0].json()["order"]["tickets"]) == seat_ids


def test_payments_racing_expiry_never_sell_a_seat_twice(server_factory, backdoor):
    server = server_factory(CHECKOUT_TTL_SECONDS=2, HOLD_TTL_SECONDS=1)
    buyers, grabbers = backdoor.users(10), backdoor.users(10)
    seat_ids = backdoor.event(rows="A-B", per_row=10, price_cents=500)
    paid: dict[int, list[int]] = {}
    statuses: Counter = Counter()
    lock = threading.Lock()
    stop = time.monotonic() + 6

    def buyer(index: int) -> None:
        user, rng = buyers[index], random.Random(index)
        mine = seat_ids[index * 2 : index * 2 + 2]
        with requests.Session() as session:
            for _ in range(20):
                if time.monotonic() > stop:
                    return
                created = session.post(f"{server.url}/orders", json={"seat_ids": mine}, headers=user["headers"])
                with lock:
                    statuses[("order", created.status_code)] += 1
                if created.status_code != 201:
                    time.sleep(rng.uniform(0, 0.3))
                    continue
                order = created.json()["order"]
                # pay well before, around, and well after the two-second deadline (margins wide enough
                # for a loaded machine: "before" and "after" must stay so)
                time.sleep((0.2, 1.8, 2.0, 2.2, 3.2)[index % 5] + rng.uniform(-0.05, 0.05))
                result = session.post(
                    f"{server.url}/orders/{order['id']}/pay",
                    json={"payment_token": "tok_visa"},
                    headers=user["headers"],
                )
                with lock:
                    statuses[("pay", result.status_code)] += 1
                if result.status_code == 200:
                    with lock:
                        paid[order["id"]] = sorted(t["seat_id"] for t in result.json()["order"]["tickets"])
                    return

    def grabber(index: int) -> None:
        user, rng = grabbers[index], random.Random(100 + index)
        with requests.Session() as session:
            for _ in range(400):
                if time.monotonic() > stop:
                    return
                seat = rng.choice(seat_ids)
                response = session.post(f"{server.url}/orders", json={"seat_ids": [seat]}, headers=user["headers"])
                with lock:
                    statuses[("grab", response.status_code)] += 1
                if response.status_code == 201:
                    order_id = response.json()["order"]["id"]
                    result = session.post(
                        f"{server.url}/orders/{order_id}/pay",
                        json={"payment_token": "tok_visa"},
                        headers=user["headers"],
                    )
                    with lock:
                        statuses[("grab-pay", result.status_code)] += 1
                    if result.status_code == 200:
                        with lock:
                            paid[order_id] = [seat]
                time.sleep(rng.uniform(0, 0.05))

    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(buyer, i) for i in range(10)] + [pool.submit(grabber, i) for i in range(10)]
        for future in futures:
            future.result()

    assert not [key for key in statuses if key[1] >= 500], (statuses, server.log()[-3000:])
    assert statuses[("pay", 200)] > 0 and statuses[("pay", 409)] > 0, statuses
    tickets = backdoor.tickets()
    seats_sold = [seat_id for seat_id, _, _ in tickets]
    assert len(seats_sold) == len(set(seats_sold)), "a seat was sold twice"
    with backdoor.app.app_context():
        paid_orders = db.session.scalars(select(Order).where(Order.status == "paid")).all()
        seats_of = defaultdict(list)
        for order_id, seat_id in db.session.execute(select(OrderSeat.order_id, OrderSeat.seat_id)):
            seats_of[order_id].append(seat_id)
    assert {order.id for order in paid_orders} == set(paid), "every 200 pay is a paid order, and only those"
    tickets_by_seat = {seat_id: user_id for seat_id, _, user_id in tickets}
    for order in paid_orders:
        assert sorted(seats_of[order.id]) == paid[order.id]
        assert all(tickets_by_seat[seat] == order.user_id for seat in seats_of[order.id]), "paid order lacks tickets"
    assert len(tickets) == sum(len(seats) for seats in paid.values())
