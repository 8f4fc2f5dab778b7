"""Refunds and cancellations racing buyers on real gunicorn (several workers, real threads): a freed
seat is sold at most once, money goes back once, and a cancelled event books nothing (issue 14)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections import Counter

import pytest
import requests
from flask_jwt_extended import create_access_token
from sqlalchemy import select

from ticketing.extensions import db
from ticketing.models import Order, Payment, Refund, Ticket, User

from ..race_support import at_once
from ..waiting import wait_until

pytestmark = pytest.mark.race


def _admin(backdoor) -> dict:
    """A platform admin (who manages the events seed-seats makes)."""
    with backdoor.app.app_context():
        user = User(email=f"admin-{time.monotonic_ns()}@example.com", password_hash="-", is_admin=True)
        db.session.add(user)
        db.session.commit()
        return {"id": user.id, "headers": {"Authorization": f"Bearer {create_access_token(identity=user)}"}}


def _paid_order(url: str, buyer: dict, seat_ids: list[int], token: str = "tok_visa") -> dict:
    created = requests.post(f"{url}/orders", json={"seat_ids": seat_ids}, headers=buyer["headers"])
    assert created.status_code == 201, created.text
    order_id = created.json()["order"]["id"]
    paid = requests.post(f"{url}/orders/{order_id}/pay", json={"payment_token": token}, headers=buyer["headers"])
    assert paid.status_code == 200, paid.text
    return paid.json()["order"]


def _money(backdoor, order_id: int) -> tuple[int, int, list[tuple[str, int]]]:
    """(total, refunded_total, [(refund status, amount)]) of the order, from the database."""
    with backdoor.app.app_context():
        order = db.session.get(Order, order_id)
        refunds = db.session.execute(
            select(Refund.status, Refund.amount_cents).where(Refund.order_id == order_id).order_by(Refund.id)
        ).all()
        result = (order.total_cents, order.refunded_cents, [tuple(row) for row in refunds])
        db.session.remove()
        return result


def test_a_refunded_seat_goes_to_exactly_one_new_buyer(server_factory, backdoor):
    server = server_factory()
    seat_ids = backdoor.event(per_row=4, price_cents=2000)
    seat_id = seat_ids[0]
    first, *others = backdoor.users(21)
    admin = _admin(backdoor)
    order = _paid_order(server.url, first, [seat_id])
    winners: list[dict] = []
    codes: Counter = Counter()
    record = threading.Lock()
    deadline = time.monotonic() + 8

    def refund(session):
        return session.post(f"{server.url}/orders/{order['id']}/refund", json={}, headers=admin["headers"])

    def buyer(user):
        def attempt(session):
            while time.monotonic() < deadline and not winners:
                answer = session.post(f"{server.url}/orders", json={"seat_ids": [seat_id]}, headers=user["headers"])
                with record:
                    codes[answer.status_code if answer.ok else answer.json()["code"]] += 1
                    if answer.status_code == 201:
                        winners.append({"user": user, "order": answer.json()["order"]})
                        return answer
                time.sleep(0.005)
            return None

        return attempt

    answers = at_once([refund] + [buyer(user) for user in others])
    assert answers[0].status_code == 200, answers[0].text
    assert len(winners) == 1, (codes, server.log()[-2000:])
    assert set(codes) <= {201, "seats_unavailable"}, codes
    winner = winners[0]
    paid = requests.post(
        f"{server.url}/orders/{winner['order']['id']}/pay",
        json={"payment_token": "tok_visa"},
        headers=winner["user"]["headers"],
    )
    assert paid.status_code == 200, paid.text
    with backdoor.app.app_context():
        tickets = db.session.execute(select(Ticket.user_id, Ticket.status).where(Ticket.seat_id == seat_id)).all()
    assert sorted(tickets) == sorted([(first["id"], "void"), (winner["user"]["id"], "valid")])
    assert backdoor.seat_statuses([seat_id]) == {seat_id: "booked"}


@pytest.mark.parametrize("same_key", [True, False], ids=["same key", "no key"])
def test_two_refunds_of_one_order_at_once_give_the_money_back_once(server_factory, backdoor, same_key):
    server = server_factory()
    seat_ids = backdoor.event(per_row=3, price_cents=1500)
    buyer = backdoor.users(1)[0]
    admin = _admin(backdoor)
    order = _paid_order(server.url, buyer, seat_ids)
    headers = {**admin["headers"], **({"Idempotency-Key": "refund-once"} if same_key else {})}

    answers = at_once(
        [
            (lambda session: session.post(f"{server.url}/orders/{order['id']}/refund", json={}, headers=headers))
            for _ in range(12)
        ]
    )
    statuses = Counter(answer.status_code for answer in answers)
    if same_key:
        assert statuses == {200: 12}, ([a.json() for a in answers], server.log()[-2000:])
        assert len({answer.json()["refund"]["id"] for answer in answers}) == 1
    else:
        assert statuses[200] == 1 and statuses[409] == 11, [a.json() for a in answers]
        assert {a.json()["code"] for a in answers if a.status_code == 409} <= {
            "refund_in_progress",
            "order_not_refundable",
        }
    total, refunded, refunds = _money(backdoor, order["id"])
    assert total == refunded == 4500 and refunds == [("succeeded", 4500)]
    assert backdoor.seat_statuses(seat_ids) == dict.fromkeys(seat_ids, "available")


def test_a_refusing_gateway_changes_nothing_on_any_worker(server_factory, backdoor):
    """`tok_refundFails`: every refund of the order answers 502, retried with the same key on every
    worker at once; the order stays paid, its tickets valid, its seats booked, one refund row failed."""
    server = server_factory()
    seat_ids = backdoor.event(per_row=2, price_cents=1000)
    buyer = backdoor.users(1)[0]
    admin = _admin(backdoor)
    order = _paid_order(server.url, buyer, seat_ids, token="tok_refundFails")
    headers = {**admin["headers"], "Idempotency-Key": "refund-k"}
    url = f"{server.url}/orders/{order['id']}/refund"
    assert requests.post(url, json={}, headers=headers).status_code == 502
    answers = at_once([(lambda session: session.post(url, json={}, headers=headers)) for _ in range(8)])
    assert {(a.status_code, a.json()["code"]) for a in answers} <= {
        (502, "payment_gateway_error"),
        (409, "refund_in_progress"),
    }, [a.json() for a in answers]
    seen = requests.get(f"{server.url}/orders/{order['id']}", headers=buyer["headers"]).json()["order"]
    assert seen["status"] == "paid" and seen["refunded_total"] == "0.00"
    assert {ticket["status"] for ticket in seen["tickets"]} == {"valid"}
    assert backdoor.seat_statuses(seat_ids) == dict.fromkeys(seat_ids, "booked")
    assert _money(backdoor, order["id"]) == (2000, 0, [("failed", 2000)])


def test_payments_arriving_while_the_event_is_cancelled_end_refunded(server_factory, backdoor):
    """Twenty buyers pay their pending orders at the instant the event is cancelled (and a few more
    cancels race along): no ticket stays valid, every order ends cancelled or refunded, and every
    charge that went through is given back exactly once."""
    server = server_factory()
    seat_ids = backdoor.event(rows="A-B", per_row=10, price_cents=1200)
    buyers = backdoor.users(20)
    admin = _admin(backdoor)
    orders = []
    for buyer, seat_id in zip(buyers, seat_ids, strict=True):
        created = requests.post(f"{server.url}/orders", json={"seat_ids": [seat_id]}, headers=buyer["headers"])
        assert created.status_code == 201
        orders.append(created.json()["order"])
    with backdoor.app.app_context():
        event_id = db.session.get(Order, orders[0]["id"]).event_id

    def pay(buyer, order):
        return lambda session: session.post(
            f"{server.url}/orders/{order['id']}/pay", json={"payment_token": "tok_visa"}, headers=buyer["headers"]
        )

    def cancel(session):
        return session.post(f"{server.url}/events/{event_id}/cancel", headers=admin["headers"])

    answers = at_once([cancel, cancel, cancel] + [pay(b, o) for b, o in zip(buyers, orders, strict=True)])
    assert {answer.status_code for answer in answers[:3]} == {200}, [a.text for a in answers[:3]]
    pay_codes = Counter(a.status_code if a.ok else a.json()["code"] for a in answers[3:])
    assert set(pay_codes) <= {200, "order_not_payable", "payment_in_progress"}, pay_codes
    final = requests.post(f"{server.url}/events/{event_id}/cancel", headers=admin["headers"])
    assert final.status_code == 200 and final.json()["event"]["status"] == "cancelled"

    with backdoor.app.app_context():
        assert db.session.scalars(select(Ticket.status).where(Ticket.seat_id.in_(seat_ids))).all().count("valid") == 0
        rows = db.session.execute(select(Order.id, Order.status, Order.total_cents, Order.refunded_cents)).all()
        payments = db.session.execute(select(Payment.order_id, Payment.status)).all()
        db.session.remove()
    succeeded = {order_id for order_id, status in payments if status == "succeeded"}
    for order_id, status, total, refunded in rows:
        if order_id in succeeded:  # paid before the cancellation reached it: refunded by it, once
            assert status == "refunded" and refunded == total, (order_id, status)
            assert _money(backdoor, order_id)[2] == [("succeeded", total)]
        else:
            assert status == "cancelled" and refunded == 0, (order_id, status)
    assert {status for _order, status in payments} <= {"succeeded", "refunded"}, payments
    # Paid-and-valid never happens; the money of each charge that arrived too late went back.
    assert final.json()["refunded_orders"] == len(succeeded)


def test_a_cancellation_killed_with_sigkill_is_finished_by_a_repeat(server_factory, backdoor):
    """kill -9 of the worker half-way through cancelling an event of many paid orders; the repeat (on
    the new worker) finishes it, and every order is refunded exactly once."""
    server = server_factory(WORKERS=1, THREADS=4)
    seat_ids = backdoor.event(rows="A-E", per_row=20, price_cents=500)
    buyers = backdoor.users(10)
    admin = _admin(backdoor)
    orders = [_paid_order(server.url, buyers[index % 10], seat_ids[index * 2 : index * 2 + 2]) for index in range(50)]
    with backdoor.app.app_context():
        event_id = db.session.get(Order, orders[0]["id"]).event_id
    (worker,) = server.worker_pids()

    def cancel_once() -> None:
        with contextlib.suppress(requests.RequestException):  # the worker answering it is killed
            requests.post(f"{server.url}/events/{event_id}/cancel", headers=admin["headers"], timeout=60)

    cancel = threading.Thread(target=cancel_once, daemon=True)

    def refunded_so_far() -> int:
        with backdoor.app.app_context():
            count = len(db.session.scalars(select(Refund.id).where(Refund.status == "succeeded")).all())
            db.session.remove()
            return count

    cancel.start()
    wait_until(lambda: refunded_so_far() >= 5, timeout=30)
    os.kill(worker, signal.SIGKILL)
    killed_at = refunded_so_far()
    assert killed_at < 50, "the cancellation finished before it could be killed"
    wait_until(lambda: server.worker_pids() - {worker}, timeout=30)

    finished = requests.post(f"{server.url}/events/{event_id}/cancel", headers=admin["headers"], timeout=120)
    assert finished.status_code == 200, finished.text
    assert finished.json()["refunded_orders"] == 50 and finished.json()["refunds_pending"] == 0
    for order in orders:
        total, refunded, refunds = _money(backdoor, order["id"])
        assert total == refunded == 1000 and refunds == [("succeeded", 1000)], (order["id"], refunds)
    with backdoor.app.app_context():
        assert set(db.session.scalars(select(Ticket.status)).all()) == {"void"}
