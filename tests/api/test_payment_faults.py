"""Payments when something breaks after the charge: every answer JSON, a retry settles at once,
and the order never reads expired while its payment is unsettled (issue 11, point 8)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from ticketing.clock import ManualClock
from ticketing.extensions import db
from ticketing.services.gateways import FakeGateway


class _FailsOnceAfterCharging(FakeGateway):
    """Charges, then loses the answer the first time (a network cut or a dying database after it)."""

    def __init__(self) -> None:
        self.failures_left = 1

    def charge(self, **kwargs):
        outcome = super().charge(**kwargs)
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("the answer was lost after the card was charged")
        return outcome


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def settings(clock):
    return {"CLOCK": clock, "PAYMENT_GATEWAY": _FailsOnceAfterCharging(), "CHECKOUT_TTL_SECONDS": 600}


def _pay(client, user, order_id, key=None):
    headers = dict(user["headers"], **({"Idempotency-Key": key} if key else {}))
    return client.post(f"/orders/{order_id}/pay", json={"payment_token": "tok_visa"}, headers=headers)


def test_a_retry_with_the_same_key_settles_a_charge_whose_answer_was_lost(api, client, clock):
    event = api.seed(rows="A", per_row=2, price_cents=1000)
    user = api.user()
    order = client.post("/orders", json={"seat_ids": event["seat_ids"]}, headers=user["headers"]).get_json()["order"]

    lost = _pay(client, user, order["id"], key="pay-1")
    assert lost.status_code == 502 and lost.get_json()["code"] == "payment_gateway_error"
    assert "same Idempotency-Key" in lost.get_json()["message"]

    # The checkout time runs out while the payment is unsettled: the order still reads pending.
    clock.advance(601)
    seen = client.get(f"/orders/{order['id']}", headers=user["headers"]).get_json()["order"]
    assert seen["status"] == "pending_payment"
    assert client.get("/orders", headers=user["headers"]).get_json()["orders"][0]["status"] == "pending_payment"
    # Another key (or none) may not start a second charge meanwhile.
    other = _pay(client, user, order["id"], key="pay-2")
    assert other.status_code == 409 and other.get_json()["code"] == "payment_in_progress"

    # The same key again: the gateway is asked, and the payment settles now, not minutes later.
    retried = _pay(client, user, order["id"], key="pay-1")
    assert retried.status_code == 200, retried.get_json()
    paid = retried.get_json()["order"]
    assert paid["status"] == "paid" and len(paid["tickets"]) == 2


def test_a_failure_while_ending_the_session_does_not_replace_the_answer(api, app, client, monkeypatch):
    """The database going away after COMMIT made the session's ROLLBACK at teardown raise, and the
    server answered a non-JSON 500 for an order that was in fact paid."""
    event = api.seed(rows="A", per_row=1, price_cents=1000)
    user = api.user()
    order = client.post("/orders", json={"seat_ids": event["seat_ids"]}, headers=user["headers"]).get_json()["order"]
    app.extensions["payment_gateway"].failures_left = 0
    real_remove = db.session.remove

    def broken_remove():
        real_remove()
        raise OperationalError("ROLLBACK", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(db.session, "remove", broken_remove)
    answer = _pay(client, user, order["id"])
    monkeypatch.undo()
    assert answer.status_code == 200 and answer.is_json
    assert answer.get_json()["order"]["status"] == "paid"
