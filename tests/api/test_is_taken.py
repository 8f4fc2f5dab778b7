"""A seat's `is_taken`: true while it is in a live checkout or sold, false when free or only held."""

from __future__ import annotations

import pytest

from ticketing.clock import ManualClock


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def settings(clock):
    return {"CLOCK": clock, "HOLD_TTL_SECONDS": 60, "CHECKOUT_TTL_SECONDS": 600}


def _taken_everywhere(client, event_id: int, seat_id: int, user=None) -> bool:
    """The flag as every seat answer gives it; they must all agree."""
    headers = (user or {}).get("headers", {})
    answers = [
        client.get(f"/seats/{seat_id}", headers=headers).get_json()["seat"],
        *[
            s
            for s in client.get(f"/events/{event_id}/seats", headers=headers).get_json()["seats"]
            if s["id"] == seat_id
        ],
        *[
            s
            for s in client.get(f"/seats?event_id={event_id}", headers=headers).get_json()["seats"]
            if s["id"] == seat_id
        ],
        *[s for s in client.get("/seats", headers=headers).get_json()["seats"] if s["id"] == seat_id],
    ]
    assert len(answers) == 4
    flags = {answer["is_taken"] for answer in answers}
    assert len(flags) == 1, answers
    return flags.pop()


def test_a_plain_lock_is_not_taken_a_checkout_and_a_sale_are(api, client, clock):
    event = api.seed(rows="A", per_row=4, price_cents=1500)
    a1, a2, a3, _ = event["seat_ids"]
    buyer, other = api.user(), api.user()
    assert not _taken_everywhere(client, event["id"], a1)

    locked = client.post(f"/seats/{a1}/lock", headers=buyer["headers"]).get_json()
    assert locked["seat"]["status"] == "locked" and locked["seat"]["is_taken"] is False
    assert not _taken_everywhere(client, event["id"], a1)
    assert not _taken_everywhere(client, event["id"], a1, buyer)

    order = client.post("/orders", json={"seat_ids": [a1, a2]}, headers=buyer["headers"]).get_json()["order"]
    for seat in (a1, a2):
        assert _taken_everywhere(client, event["id"], seat)
        assert _taken_everywhere(client, event["id"], seat, other)
    paid = client.post(f"/orders/{order['id']}/pay", json={"payment_token": "tok_visa"}, headers=buyer["headers"])
    assert paid.status_code == 200
    assert _taken_everywhere(client, event["id"], a1) and _taken_everywhere(client, event["id"], a2)

    # A checkout that runs out is over at once, with nothing written.
    client.post("/orders", json={"seat_ids": [a3]}, headers=other["headers"])
    assert _taken_everywhere(client, event["id"], a3)
    clock.advance(601)
    assert not _taken_everywhere(client, event["id"], a3)


def test_a_cancelled_or_declined_checkout_leaves_the_seat_not_taken(api, client):
    event = api.seed(rows="A", per_row=2, price_cents=1500)
    a1, a2 = event["seat_ids"]
    buyer = api.user()
    first = client.post("/orders", json={"seat_ids": [a1]}, headers=buyer["headers"]).get_json()["order"]
    client.post(f"/orders/{first['id']}/cancel", headers=buyer["headers"])
    second = client.post("/orders", json={"seat_ids": [a2]}, headers=buyer["headers"]).get_json()["order"]
    declined = client.post(
        f"/orders/{second['id']}/pay", json={"payment_token": "tok_chargeDeclined"}, headers=buyer["headers"]
    )
    assert declined.status_code == 402
    assert not _taken_everywhere(client, event["id"], a1)
    assert not _taken_everywhere(client, event["id"], a2)


def test_a_confirmed_free_seat_is_taken_and_the_answers_say_so(api, client):
    event = api.seed(rows="A", per_row=1)
    seat = event["seat_ids"][0]
    user = api.user()
    assert client.post(f"/seats/{seat}/lock", headers=user["headers"]).get_json()["seat"]["is_taken"] is False
    confirmed = client.post(f"/seats/{seat}/confirm", headers=user["headers"]).get_json()
    assert confirmed["seat"]["is_taken"] is True
    assert _taken_everywhere(client, event["id"], seat)
