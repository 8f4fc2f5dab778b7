"""Cancelling an event (issue 14): every pending order cancelled, every paid order refunded once, every
ticket void, even when the call is repeated, interrupted, or a payment arrives in the middle."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.refunding import RecordingGateway, buy
from ticketing.clock import ManualClock
from ticketing.extensions import db
from ticketing.models import Payment, Ticket
from ticketing.services import payments
from ticketing.services.gateways import ChargeOutcome


class ProcessDied(BaseException):
    """Stands for kill -9: nothing after it runs (not even `except Exception`)."""


class DyingGateway(RecordingGateway):
    """Refunds, and on the refund numbered `die_after` the process dies right after the gateway did it."""

    die_after: int | None = None

    def refund(self, **kwargs) -> None:
        super().refund(**kwargs)
        if self.die_after is not None and self.calls == self.die_after:
            self.die_after = None
            raise ProcessDied()


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def gateway():
    return DyingGateway()


@pytest.fixture
def settings(clock, gateway):
    return {"CLOCK": clock, "PAYMENT_GATEWAY": gateway}


@pytest.fixture
def show(organizers, api):
    """An event on sale (A1-A3 at 25.00, B1-B3 free), its manager, and three buyers."""
    made = organizers.on_sale()
    return {**made, "buyers": [api.user() for _ in range(3)]}


def _cancel(client, event_id, who):
    return client.post(f"/events/{event_id}/cancel", headers=who["headers"])


def _tickets(app, event_seat_ids):
    with app.app_context():
        rows = db.session.execute(select(Ticket.seat_id, Ticket.status).where(Ticket.seat_id.in_(event_seat_ids)))
        return sorted(rows.all())


def _free_ticket(client, buyer, seat_id):
    assert client.post(f"/seats/{seat_id}/lock", headers=buyer["headers"]).status_code == 200
    confirmed = client.post(f"/seats/{seat_id}/confirm", headers=buyer["headers"])
    assert confirmed.status_code == 200, confirmed.get_json()


def test_cancel_refunds_every_paid_order_and_cancels_every_pending_one(app, client, show, gateway):
    seats = show["seats"]
    first = buy(client, show["buyers"][0], [seats["A1"], seats["A2"]])
    second = buy(client, show["buyers"][1], [seats["A3"]])
    pending = client.post("/orders", json={"seat_ids": [seats["B1"]]}, headers=show["buyers"][2]["headers"])
    _free_ticket(client, show["buyers"][2], seats["B2"])

    answer = _cancel(client, show["event"]["id"], show["manager"])
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["refunded_orders"] == 2 and body["refunds_pending"] == 0
    assert body["event"]["status"] == "cancelled" and "cancelled" in body["message"]
    assert gateway.refunded_cents == 7500 and len(gateway.refunds) == 2

    statuses = {
        order["id"]: client.get(f"/orders/{order['id']}", headers=who["headers"]).get_json()["order"]["status"]
        for order, who in (
            (first, show["buyers"][0]),
            (second, show["buyers"][1]),
            (pending.get_json()["order"], show["buyers"][2]),
        )
    }
    assert list(statuses.values()) == ["refunded", "refunded", "cancelled"]
    assert {status for _seat, status in _tickets(app, list(seats.values()))} == {"void"}
    assert {seat["status"] for seat in client.get(f"/events/{show['event']['id']}/seats").get_json()["seats"]} == {
        "available"
    }
    # Nothing can be held or paid any more.
    lock = client.post(f"/seats/{seats['A1']}/lock", headers=show["buyers"][0]["headers"])
    assert lock.status_code == 409 and lock.get_json()["code"] == "event_not_on_sale"

    again = _cancel(client, show["event"]["id"], show["manager"])
    assert again.status_code == 200 and again.get_json()["refunded_orders"] == 2
    assert gateway.refunded_cents == 7500 and gateway.calls == 2

    entries = client.get(f"/events/{show['event']['id']}/audit", headers=show["manager"]["headers"]).get_json()
    actions = [entry["action"] for entry in entries["entries"]]
    assert actions.count("event.cancel") == 1 and actions.count("order.refund") == 2


def test_a_cancellation_killed_in_the_middle_is_finished_by_a_repeat(app, client, show, gateway):
    seats = show["seats"]
    orders = [
        buy(client, buyer, [seats[label]]) for buyer, label in zip(show["buyers"], ("A1", "A2", "A3"), strict=True)
    ]
    gateway.die_after = 2  # the second order's money went back, then the process died before COMMIT
    with pytest.raises(ProcessDied):
        _cancel(client, show["event"]["id"], show["manager"])
    with app.app_context():
        db.session.remove()
    assert client.get(f"/events/{show['event']['id']}").get_json()["event"]["status"] == "cancelled"

    finished = _cancel(client, show["event"]["id"], show["manager"])
    assert finished.status_code == 200, finished.get_json()
    assert finished.get_json()["refunded_orders"] == 3
    assert gateway.refunded_cents == 7500 and len(gateway.refunds) == 3  # each order's money once
    for order, buyer in zip(orders, show["buyers"], strict=True):
        seen = client.get(f"/orders/{order['id']}", headers=buyer["headers"]).get_json()["order"]
        assert seen["status"] == "refunded" and seen["refunded_total"] == "25.00"


def test_the_sweeper_finishes_an_interrupted_cancellation(app, client, show, gateway):
    seats = show["seats"]
    for buyer, label in zip(show["buyers"], ("A1", "A2", "A3"), strict=True):
        buy(client, buyer, [seats[label]])
    gateway.die_after = 1
    with pytest.raises(ProcessDied):
        _cancel(client, show["event"]["id"], show["manager"])
    with app.app_context():
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["expire-holds"])
    assert result.exit_code == 0, result.output
    assert "the cancellation of 1 events" in result.output
    assert gateway.refunded_cents == 7500 and len(gateway.refunds) == 3
    assert {status for _seat, status in _tickets(app, list(seats.values()))} == {"void"}


def test_a_payment_arriving_during_the_cancellation_is_refunded_not_booked(app, client, show, clock, gateway):
    """The buyer's charge is at the gateway when the event is cancelled: the order is cancelled, the
    charge that arrives is refunded, and no ticket is issued."""
    buyer = show["buyers"][0]
    created = client.post("/orders", json={"seat_ids": [show["seats"]["A1"]]}, headers=buyer["headers"])
    order_id = created.get_json()["order"]["id"]
    with app.app_context():
        start = payments._begin_payment(
            user_id=buyer["id"],
            order_id=order_id,
            payment_token="tok_visa",
            idempotency_key="pay-1",
            clock=clock.now,
            provider="fake",
        )
        db.session.remove()
    assert _cancel(client, show["event"]["id"], show["manager"]).status_code == 200
    with app.app_context():
        outcome = gateway.charge(
            reference=start.reference, amount_cents=start.amount_cents, currency="USD", token="tok_visa"
        )
        payments.settle_payment(payment_id=start.payment_id, outcome=outcome, now=clock.now(), gateway=gateway)
        assert db.session.scalar(select(Payment.status).where(Payment.id == start.payment_id)) == "refunded"
        db.session.remove()
    seen = client.get(f"/orders/{order_id}", headers=buyer["headers"]).get_json()["order"]
    assert seen["status"] == "cancelled" and seen["tickets"] == []
    assert _tickets(app, [show["seats"]["A1"]]) == []
    assert gateway.refunds == {f"refund-{outcome.charge_id}": 2500}
    replay = client.post(
        f"/orders/{order_id}/pay",
        json={"payment_token": "tok_visa"},
        headers={**buyer["headers"], "Idempotency-Key": "pay-1"},
    )
    assert replay.status_code == 409 and replay.get_json()["code"] == "order_not_payable"
    assert "cancelled" in replay.get_json()["message"]


def test_a_charge_settled_after_the_cancel_of_a_still_pending_order_is_refunded(app, show, clock, gateway, client):
    """The cancellation's status committed, but its pass has not reached the order yet."""
    from sqlalchemy import update

    from ticketing.models import Event

    buyer = show["buyers"][0]
    created = client.post("/orders", json={"seat_ids": [show["seats"]["A2"]]}, headers=buyer["headers"])
    order_id = created.get_json()["order"]["id"]
    with app.app_context():
        start = payments._begin_payment(
            user_id=buyer["id"],
            order_id=order_id,
            payment_token="tok_visa",
            idempotency_key=None,
            clock=clock.now,
            provider="fake",
        )
        db.session.execute(update(Event).where(Event.id == show["event"]["id"]).values(status="cancelled"))
        db.session.commit()
        payments.settle_payment(
            payment_id=start.payment_id,
            outcome=ChargeOutcome("succeeded", charge_id="ch_x"),
            now=clock.now(),
            gateway=gateway,
        )
        db.session.remove()
    seen = client.get(f"/orders/{order_id}", headers=buyer["headers"]).get_json()["order"]
    assert seen["status"] == "cancelled" and seen["tickets"] == []
    assert gateway.refunded_cents == 2500


def test_pay_refuses_an_order_of_a_cancelled_event(app, client, show):
    from sqlalchemy import update

    from ticketing.models import Event

    buyer = show["buyers"][0]
    created = client.post("/orders", json={"seat_ids": [show["seats"]["A2"]]}, headers=buyer["headers"])
    with app.app_context():
        db.session.execute(update(Event).where(Event.id == show["event"]["id"]).values(status="cancelled"))
        db.session.commit()
    paid = client.post(
        f"/orders/{created.get_json()['order']['id']}/pay", json={"payment_token": "tok_visa"}, headers=buyer["headers"]
    )
    assert paid.status_code == 409 and paid.get_json()["code"] == "order_not_payable"


def test_a_refusing_gateway_leaves_the_order_to_retry(client, show):
    order = buy(client, show["buyers"][0], [show["seats"]["A1"]], token="tok_refundFails")
    answer = _cancel(client, show["event"]["id"], show["manager"])
    assert answer.status_code == 200
    assert answer.get_json()["refunded_orders"] == 0 and answer.get_json()["refunds_pending"] == 1
    seen = client.get(f"/orders/{order['id']}", headers=show["buyers"][0]["headers"]).get_json()["order"]
    assert seen["status"] == "paid"


def test_roles(client, organizers, api, show):
    door, outsider = api.user(), api.user()
    organizers.add_member(show["manager"], show["organization_id"], door, "door")
    event_id = show["event"]["id"]
    assert _cancel(client, event_id, door).status_code == 403
    forbidden = _cancel(client, event_id, outsider)
    assert forbidden.status_code == 403 and forbidden.get_json()["code"] == "forbidden"
    assert client.post(f"/events/{event_id}/cancel").status_code == 401
    draft = organizers.event(show["manager"], show["organization_id"], show["venue"]["id"])
    hidden = _cancel(client, draft["id"], outsider)
    assert hidden.status_code == 404 and hidden.get_json()["code"] == "event_not_found"
    assert _cancel(client, 999_999, show["manager"]).status_code == 404
    assert _cancel(client, draft["id"], show["manager"]).status_code == 200
