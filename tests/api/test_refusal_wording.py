"""Refusals read as sentences: seats by their labels with the right plural, an order's state in words."""

from __future__ import annotations


def _order(client, user, seat_ids):
    return client.post("/orders", json={"seat_ids": seat_ids}, headers=user["headers"])


def test_seats_that_cannot_be_had_are_named_by_label_and_reason(api, client):
    event = api.seed(rows="A", per_row=8, price_cents=1000)
    a1, a2, a3, a4, a5, a6, a7, a8 = event["seat_ids"]
    me, someone = api.user(), api.user()
    bought = _order(client, me, [a6]).get_json()["order"]
    client.post(f"/orders/{bought['id']}/pay", json={"payment_token": "tok_visa"}, headers=me["headers"])

    mine = _order(client, me, [a6])  # the user's own seat: "Seats 6 are booked" before
    assert mine.status_code == 409
    assert mine.get_json()["message"] == "Seat A6 is already yours: you have its ticket."

    _order(client, someone, [a1, a2])
    _order(client, me, [a3])
    client.post(f"/seats/{a4}/lock", headers=someone["headers"])
    other = _order(client, someone, [a7])
    client.post(
        f"/orders/{other.get_json()['order']['id']}/pay", json={"payment_token": "tok_visa"}, headers=someone["headers"]
    )
    refused = _order(client, me, [a1, a2, a3, a4, a5, a7, a8])
    assert refused.status_code == 409
    assert refused.get_json()["details"]["unavailable"] == [a1, a2, a3, a4, a7]
    assert refused.get_json()["message"] == (
        "Seat A3 is in another order of yours. Pay for that order or cancel it first. "
        "Seat A7 is sold. Seats A1, A2 and A4 are held by someone else."
    )

    missing = _order(client, me, [a8, 999_998, 999_999])
    assert missing.status_code == 404
    assert missing.get_json()["message"] == "There are no seats with ids 999998 and 999999."


def test_an_order_that_cannot_be_paid_or_cancelled_says_why_in_words(api, client):
    event = api.seed(rows="A", per_row=3, price_cents=1000)
    a1, a2, _ = event["seat_ids"]
    user = api.user()
    paid = _order(client, user, [a1]).get_json()["order"]
    client.post(f"/orders/{paid['id']}/pay", json={"payment_token": "tok_visa"}, headers=user["headers"])
    declined = _order(client, user, [a2]).get_json()["order"]
    client.post(f"/orders/{declined['id']}/pay", json={"payment_token": "tok_chargeDeclined"}, headers=user["headers"])

    def refusal(order, action):
        body = {"payment_token": "tok_visa"} if action == "pay" else None
        response = client.post(f"/orders/{order['id']}/{action}", json=body, headers=user["headers"])
        assert response.status_code == 409
        return response.get_json()["message"]

    assert refusal(paid, "pay") == "The order is already paid."
    assert refusal(paid, "cancel") == "The order is already paid, so it cannot be cancelled."
    assert refusal(declined, "pay") == (
        "The order's payment was declined and its seats were released; start a new order to try again."
    )
    assert refusal(declined, "cancel") == "The order's payment was declined and its seats were already released."
