"""A payment whose answer is lost after the charge, on real gunicorn (issue 11, point 8)."""

from __future__ import annotations

import time

import pytest
import requests

pytestmark = pytest.mark.race


def test_a_lost_answer_is_settled_by_the_same_key_on_any_worker(server_factory, backdoor):
    """The test card `tok_answerLost` charges and then loses the answer (the gateway call raises).
    The buyer gets a JSON 502; the order stays pending, not expired; the same Idempotency-Key again,
    on whichever worker, asks the gateway and answers the paid order at once."""
    server = server_factory(CHECKOUT_TTL_SECONDS=2)
    seat_ids = backdoor.event(per_row=2, price_cents=1500)
    buyer = backdoor.users(1)[0]
    order = requests.post(f"{server.url}/orders", json={"seat_ids": seat_ids}, headers=buyer["headers"]).json()["order"]
    headers = {**buyer["headers"], "Idempotency-Key": "pay-lost-1"}
    pay = f"{server.url}/orders/{order['id']}/pay"

    lost = requests.post(pay, json={"payment_token": "tok_answerLost"}, headers=headers)
    assert lost.status_code == 502 and lost.headers["Content-Type"].startswith("application/json")
    assert lost.json()["code"] == "payment_gateway_error"

    # Past the checkout time with the payment unsettled, the order still reads pending.
    time.sleep(2.5)  # the checkout time itself is what is waited for (the server has its own clock)
    seen = requests.get(f"{server.url}/orders/{order['id']}", headers=buyer["headers"]).json()["order"]
    assert seen["status"] == "pending_payment"

    retried = [requests.post(pay, json={"payment_token": "tok_answerLost"}, headers=headers) for _ in range(4)]
    assert {answer.status_code for answer in retried} == {200}, [answer.json() for answer in retried]
    assert {answer.json()["order"]["status"] for answer in retried} == {"paid"}
    tickets = {(seat, user) for seat, _code, user in backdoor.tickets()}
    assert tickets == {(seat_id, buyer["id"]) for seat_id in seat_ids}
