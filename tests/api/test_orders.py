"""Orders: all-or-none checkout, payment outcomes, cancellation, expiry, idempotency, privacy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers import TEST_LIMITS
from ticketing.extensions import db
from ticketing.models import Order, Payment, Seat, utcnow
from ticketing.services.gateways import FakeGateway
from ticketing.services.orders import create_order
from ticketing.services.payments import pay_order, reconcile_payments


@pytest.fixture
def show(api):
    """A priced event: seats A1..A5 at 25.00 EUR."""
    event = api.seed(rows="A", per_row=5, price_cents=2500, currency="EUR")
    return {"id": event["id"], "seats": dict(zip(["A1", "A2", "A3", "A4", "A5"], event["seat_ids"], strict=True))}


def _order(client, user, seat_ids):
    return client.post("/orders", json={"seat_ids": seat_ids}, headers=user["headers"])


def _pay(client, user, order_id, token="tok_visa", key=None):
    headers = dict(user["headers"])
    if key:
        headers["Idempotency-Key"] = key
    return client.post(f"/orders/{order_id}/pay", json={"payment_token": token}, headers=headers)


def _status(client, seat_id, user=None):
    return client.get(f"/seats/{seat_id}", headers=(user or {}).get("headers", {})).get_json()["seat"]["status"]


def _payments(app, order_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Payment.id)).where(Payment.order_id == order_id))


def test_the_incident_cannot_happen(api, client, show):
    x, y = api.user(), api.user()
    a2, a3, a4 = show["seats"]["A2"], show["seats"]["A3"], show["seats"]["A4"]

    created = _order(client, x, [a2, a3, a4])
    assert created.status_code == 201
    order = created.get_json()["order"]
    assert created.get_json()["message"]
    assert order["status"] == "pending_payment" and order["seat_ids"] == [a2, a3, a4]
    assert order["total"] == "75.00" and order["currency"] == "EUR" and order["tickets"] == []

    # Y still tries A2 and A3: refused with exactly those ids, and nothing is held for Y
    refused = _order(client, y, [a3, a2, show["seats"]["A5"]])
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "seats_unavailable"
    assert sorted(refused.get_json()["details"]["unavailable"]) == [a2, a3]
    assert _status(client, show["seats"]["A5"]) == "available"
    assert client.get("/orders", headers=y["headers"]).get_json()["orders"] == []
    assert all(_status(client, seat) == "locked" for seat in (a2, a3, a4))

    paid = _pay(client, x, order["id"])
    assert paid.status_code == 200
    body = paid.get_json()
    assert body["order"]["status"] == "paid" and body["message"]
    assert sorted(ticket["seat_id"] for ticket in body["order"]["tickets"]) == [a2, a3, a4]
    assert len({ticket["code"] for ticket in body["order"]["tickets"]}) == 3
    assert {ticket["label"] for ticket in body["order"]["tickets"]} == {"A2", "A3", "A4"}
    assert all(_status(client, seat) == "booked" for seat in (a2, a3, a4))
    assert _order(client, y, [a2]).get_json()["details"]["unavailable"] == [a2]


def test_the_callers_own_locks_are_welcome_and_then_belong_to_the_order(api, client, show):
    user, other = api.user(), api.user()
    a1, a2 = show["seats"]["A1"], show["seats"]["A2"]
    client.post(f"/seats/{a1}/lock", headers=user["headers"])
    client.post(f"/seats/{a2}/lock", headers=other["headers"])
    refused = _order(client, user, [a1, a2])
    assert refused.status_code == 409 and refused.get_json()["details"]["unavailable"] == [a2]
    assert client.get(f"/seats/{a1}", headers=user["headers"]).get_json()["seat"]["locked_by_me"] is True

    order = _order(client, user, [a1]).get_json()["order"]
    seat = client.get(f"/seats/{a1}", headers=user["headers"]).get_json()["seat"]
    assert seat["status"] == "locked" and seat["lock_expires_at"] == order["expires_at"]
    # a seat held by an order changes only through the order
    for method, path in (("post", "lock"), ("delete", "lock"), ("post", "confirm")):
        response = getattr(client, method)(f"/seats/{a1}/{path}", headers=user["headers"])
        assert response.status_code == 409 and response.get_json()["code"] == "seat_in_order", path
    assert _order(client, user, [a1]).get_json()["code"] == "seats_unavailable"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "seat_ids"),
        ({"seat_ids": []}, "seat_ids"),
        ({"seat_ids": "1"}, "seat_ids"),
        ({"seat_ids": ["x"]}, "seat_ids.0"),
        ({"seat_ids": [0]}, "seat_ids.0"),
        ({"seat_ids": list(range(1, 102))}, "seat_ids"),
    ],
)
def test_order_validation(api, client, body, field):
    user = api.user()
    response = client.post("/orders", json=body, headers=user["headers"])
    assert response.status_code == 400
    assert response.get_json()["code"] == "validation_error"
    assert field in response.get_json()["details"]


def test_duplicates_and_several_events_are_400_unknown_seats_404(api, client, show):
    user = api.user()
    other_event = api.seed(rows="A", per_row=1)
    a1 = show["seats"]["A1"]
    for seat_ids in ([a1, a1], [a1, other_event["seat_ids"][0]]):
        response = _order(client, user, seat_ids)
        assert response.status_code == 400 and response.get_json()["code"] == "validation_error"
        assert "seat_ids" in response.get_json()["details"]
    missing = _order(client, user, [a1, 987654])
    assert missing.status_code == 404 and missing.get_json()["code"] == "seat_not_found"
    assert _status(client, a1) == "available"


class TestHoldLimit:
    @pytest.fixture
    def settings(self):
        return {"MAX_SEATS_PER_USER": 3}

    def test_locks_and_pending_orders_count_together(self, api, client, show):
        user = api.user()
        seats = show["seats"]
        client.post(f"/seats/{seats['A1']}/lock", headers=user["headers"])
        client.post(f"/seats/{seats['A2']}/lock", headers=user["headers"])
        too_many = _order(client, user, [seats["A3"], seats["A4"]])
        assert too_many.status_code == 409 and too_many.get_json()["code"] == "hold_limit_reached"
        # the caller's own locks moved into the order are not counted twice
        assert _order(client, user, [seats["A1"], seats["A2"], seats["A3"]]).status_code == 201
        refused = client.post(f"/seats/{seats['A4']}/lock", headers=user["headers"])
        assert refused.status_code == 409 and refused.get_json()["code"] == "hold_limit_reached"


def test_declined_payment_frees_the_seats(api, client, show):
    user, other = api.user(), api.user()
    order = _order(client, user, [show["seats"]["A1"], show["seats"]["A2"]]).get_json()["order"]
    declined = _pay(client, user, order["id"], token="tok_chargeDeclined")
    assert declined.status_code == 402
    assert declined.get_json()["code"] == "payment_declined" and declined.get_json()["message"]
    assert (
        client.get(f"/orders/{order['id']}", headers=user["headers"]).get_json()["order"]["status"] == "payment_failed"
    )
    assert _status(client, show["seats"]["A1"]) == "available"
    assert client.post(f"/seats/{show['seats']['A1']}/lock", headers=other["headers"]).status_code == 200
    again = _pay(client, user, order["id"])
    assert again.status_code == 409 and again.get_json()["code"] == "order_not_payable"


def test_gateway_error_keeps_the_order_payable(api, client, show):
    user = api.user()
    order = _order(client, user, [show["seats"]["A1"]]).get_json()["order"]
    failed = _pay(client, user, order["id"], token="tok_processingError")
    assert failed.status_code == 502 and failed.get_json()["code"] == "payment_gateway_error"
    assert (
        client.get(f"/orders/{order['id']}", headers=user["headers"]).get_json()["order"]["status"] == "pending_payment"
    )
    assert _status(client, show["seats"]["A1"]) == "locked"
    retried = _pay(client, user, order["id"])
    assert retried.status_code == 200 and retried.get_json()["order"]["status"] == "paid"


def test_cancel_frees_the_seats_once(api, client, show):
    user = api.user()
    order = _order(client, user, [show["seats"]["A1"]]).get_json()["order"]
    cancelled = client.post(f"/orders/{order['id']}/cancel", headers=user["headers"])
    assert cancelled.status_code == 200
    assert cancelled.get_json()["order"]["status"] == "cancelled" and cancelled.get_json()["message"]
    assert _status(client, show["seats"]["A1"]) == "available"
    again = client.post(f"/orders/{order['id']}/cancel", headers=user["headers"])
    assert again.status_code == 409 and again.get_json()["code"] == "order_not_cancellable"
    unpaid = _pay(client, user, order["id"])
    assert unpaid.status_code == 409 and unpaid.get_json()["code"] == "order_not_payable"


def test_paid_order_cannot_be_cancelled_or_paid_again(api, client, show):
    user = api.user()
    order = _order(client, user, [show["seats"]["A1"]]).get_json()["order"]
    _pay(client, user, order["id"])
    assert (
        client.post(f"/orders/{order['id']}/cancel", headers=user["headers"]).get_json()["code"]
        == "order_not_cancellable"
    )
    assert _pay(client, user, order["id"]).get_json()["code"] == "order_not_payable"


def test_order_past_its_time_reads_expired_and_cannot_be_paid(api, app, client, show):
    user, other = api.user(), api.user()
    seats = [show["seats"]["A1"], show["seats"]["A2"]]
    with app.app_context():
        order = create_order(
            user_id=user["id"],
            seat_ids=seats,
            clock=lambda: utcnow() - timedelta(seconds=700),
            checkout_seconds=600,
            limits=TEST_LIMITS,
        )
    assert client.get(f"/orders/{order.id}", headers=user["headers"]).get_json()["order"]["status"] == "expired"
    assert client.get("/orders", headers=user["headers"]).get_json()["orders"][0]["status"] == "expired"
    assert all(_status(client, seat) == "available" for seat in seats)
    late = _pay(client, user, order.id)
    assert late.status_code == 409 and late.get_json()["code"] == "order_expired"
    assert _order(client, other, seats).status_code == 201


def test_expire_holds_tidies_orders(api, app, client, show):
    user = api.user()
    with app.app_context():
        old = create_order(
            user_id=user["id"],
            seat_ids=[show["seats"]["A1"]],
            clock=lambda: utcnow() - timedelta(seconds=700),
            checkout_seconds=600,
            limits=TEST_LIMITS,
        )
    live = _order(client, user, [show["seats"]["A2"]]).get_json()["order"]
    result = app.test_cli_runner().invoke(args=["expire-holds"])
    assert result.exit_code == 0 and "expired 1 orders" in result.output
    with app.app_context():
        assert db.session.get(Order, old.id).status == "expired"
        assert db.session.get(Order, live["id"]).status == "pending_payment"
        seat = db.session.get(Seat, show["seats"]["A1"])
        assert (seat.status, seat.holder_id, seat.order_id) == ("available", None, None)


def test_same_idempotency_key_replays_and_charges_once(api, app, client, show):
    user = api.user()
    order = _order(client, user, [show["seats"]["A1"], show["seats"]["A2"]]).get_json()["order"]
    first = _pay(client, user, order["id"], key="key-1")
    second = _pay(client, user, order["id"], key="key-1")
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json()
    assert _payments(app, order["id"]) == 1
    other_key = _pay(client, user, order["id"], key="key-2")
    assert other_key.status_code == 409 and other_key.get_json()["code"] == "order_not_payable"


def test_replay_of_a_decline_is_the_same_decline(api, app, client, show):
    user = api.user()
    order = _order(client, user, [show["seats"]["A1"]]).get_json()["order"]
    first = _pay(client, user, order["id"], token="tok_chargeDeclined", key="k")
    second = _pay(client, user, order["id"], token="tok_visa", key="k")
    assert first.status_code == second.status_code == 402
    assert first.get_json() == second.get_json()
    assert _payments(app, order["id"]) == 1


def test_free_order_is_paid_without_a_token_priced_needs_one(api, client, show):
    user = api.user()
    free_seat = api.seed(rows="A", per_row=1)["seat_ids"][0]
    free = _order(client, user, [free_seat]).get_json()["order"]
    assert free["total"] == "0.00"
    paid = client.post(f"/orders/{free['id']}/pay", json={}, headers=user["headers"])
    assert paid.status_code == 200 and len(paid.get_json()["order"]["tickets"]) == 1
    priced = _order(client, user, [show["seats"]["A1"]]).get_json()["order"]
    missing = client.post(f"/orders/{priced['id']}/pay", json={}, headers=user["headers"])
    assert missing.status_code == 400 and "payment_token" in missing.get_json()["details"]


def test_unknown_token_is_declined(api, client, show):
    user = api.user()
    order = _order(client, user, [show["seats"]["A1"]]).get_json()["order"]
    assert _pay(client, user, order["id"], token="tok_madeUp").status_code == 402


def test_orders_are_private(api, client, show):
    owner, stranger = api.user(), api.user()
    first = _order(client, owner, [show["seats"]["A1"]]).get_json()["order"]
    second = _order(client, owner, [show["seats"]["A2"]]).get_json()["order"]
    assert [o["id"] for o in client.get("/orders", headers=owner["headers"]).get_json()["orders"]] == [
        second["id"],
        first["id"],
    ]
    assert client.get("/orders", headers=stranger["headers"]).get_json()["orders"] == []
    for method, path in (("get", ""), ("post", "/pay"), ("post", "/cancel")):
        response = getattr(client, method)(
            f"/orders/{first['id']}{path}", json={"payment_token": "tok_visa"}, headers=stranger["headers"]
        )
        assert response.status_code == 404 and response.get_json()["code"] == "order_not_found", path
    assert (
        client.get(f"/orders/{first['id']}", headers=owner["headers"]).get_json()["order"]["status"]
        == "pending_payment"
    )
    for raw in ("abc", "-1", "9" * 30):
        assert client.get(f"/orders/{raw}", headers=owner["headers"]).get_json()["code"] == "order_not_found"
    assert client.get("/orders").status_code == 401


class _DiesAfterCharging(FakeGateway):
    """A gateway call after which the process dies: the charge is made, nothing after it runs."""

    def charge(self, **kwargs):
        super().charge(**kwargs)
        raise SystemExit("worker killed right after the charge")


def test_payment_interrupted_after_the_charge_is_reconciled(api, app, client, show):
    user = api.user()
    seats = [show["seats"]["A1"], show["seats"]["A2"]]
    order = _order(client, user, seats).get_json()["order"]
    now = utcnow()
    with app.app_context(), pytest.raises(SystemExit):
        pay_order(
            user_id=user["id"],
            order_id=order["id"],
            payment_token="tok_visa",
            idempotency_key=None,
            clock=lambda: now,
            gateway=_DiesAfterCharging(),
        )
    # the attempt was recorded before the charge; the order waits for reconciliation
    assert (
        client.get(f"/orders/{order['id']}", headers=user["headers"]).get_json()["order"]["status"] == "pending_payment"
    )
    assert _pay(client, user, order["id"]).get_json()["code"] == "payment_in_progress"
    with app.app_context():
        report = reconcile_payments(now=now + timedelta(seconds=121), gateway=FakeGateway())
    assert report.settled == 1
    settled = client.get(f"/orders/{order['id']}", headers=user["headers"]).get_json()["order"]
    assert settled["status"] == "paid" and sorted(t["seat_id"] for t in settled["tickets"]) == seats


def test_charge_that_arrives_after_the_seats_were_taken_is_refunded(api, app, client, show):
    user, other = api.user(), api.user()
    seat = show["seats"]["A1"]
    ten_minutes_ago = utcnow() - timedelta(seconds=605)
    with app.app_context():
        # ordered and paid while the order was live; the process died right after the charge
        order = create_order(
            user_id=user["id"],
            seat_ids=[seat],
            clock=lambda: ten_minutes_ago,
            checkout_seconds=600,
            limits=TEST_LIMITS,
        )
        with pytest.raises(SystemExit):
            pay_order(
                user_id=user["id"],
                order_id=order.id,
                payment_token="tok_visa",
                idempotency_key=None,
                clock=lambda: ten_minutes_ago + timedelta(seconds=1),
                gateway=_DiesAfterCharging(),
            )
    # the order has run out since, and another user took the seat
    assert client.post(f"/seats/{seat}/lock", headers=other["headers"]).status_code == 200
    with app.app_context():
        report = reconcile_payments(now=utcnow(), gateway=FakeGateway())
        payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id))
        assert payment.status == "refunded"
    assert report.settled == 1
    assert client.get(f"/orders/{order.id}", headers=user["headers"]).get_json()["order"]["status"] == "expired"
    assert client.get(f"/seats/{seat}", headers=other["headers"]).get_json()["seat"]["locked_by_me"] is True
