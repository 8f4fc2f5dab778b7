"""`GET /tickets` and `GET /tickets/<code>`: a buyer's tickets of every event, and nobody else's."""

from __future__ import annotations

from datetime import datetime

import pytest

from ticketing.services.seeding import parse_rows, seed_event


def _event_starting(api, name: str, starts_at: datetime, price_cents: int) -> tuple[list[int], int]:
    with api.app.app_context():
        event = seed_event(
            name=name, rows=parse_rows("A"), per_row=4, price_cents=price_cents, currency="EUR", starts_at=starts_at
        )
    return [seat["id"] for seat in api.client.get(f"/events/{event.id}/seats").get_json()["seats"]], event.id


def _buy(client, user, seat_ids, token="tok_visa"):
    order = client.post("/orders", json={"seat_ids": seat_ids}, headers=user["headers"]).get_json()["order"]
    return client.post(f"/orders/{order['id']}/pay", json={"payment_token": token}, headers=user["headers"])


def test_my_tickets_of_every_event_newest_purchase_first(api, client):
    concert_seats, concert = _event_starting(api, "Concert", datetime(2031, 5, 1, 20, 0), 2500)
    free_seats, talk = _event_starting(api, "Free talk", datetime(2031, 6, 2, 18, 30), 0)
    buyer, other = api.user(), api.user()
    assert client.get("/tickets", headers=buyer["headers"]).get_json() == {"tickets": []}

    paid = _buy(client, buyer, [concert_seats[2], concert_seats[1]]).get_json()["order"]
    assert _buy(client, buyer, [concert_seats[3]], token="tok_chargeDeclined").status_code == 402  # no ticket
    client.post(f"/seats/{free_seats[0]}/lock", headers=buyer["headers"])
    confirmed = client.post(f"/seats/{free_seats[0]}/confirm", headers=buyer["headers"]).get_json()["ticket"]
    _buy(client, other, [concert_seats[0]])

    tickets = client.get("/tickets", headers=buyer["headers"]).get_json()["tickets"]
    assert [(t["event"]["name"], t["seat"]["label"]) for t in tickets] == [
        ("Free talk", "A1"),  # the newest purchase first
        ("Concert", "A2"),  # then the order's tickets, by seat
        ("Concert", "A3"),
    ]
    assert tickets[0] == {
        "code": confirmed["code"],
        "status": "valid",
        "seat": {"id": free_seats[0], "label": "A1", "section": "", "row": "A", "number": 1},
        "event": {"id": talk, "name": "Free talk", "starts_at": "2031-06-02T18:30:00.000Z"},
        "order_id": None,
        "price": "0.00",
        "checked_in": False,
        "checked_in_at": None,
    }
    assert tickets[1]["order_id"] == paid["id"] and tickets[1]["price"] == "25.00"
    assert tickets[1]["event"] == {"id": concert, "name": "Concert", "starts_at": "2031-05-01T20:00:00.000Z"}
    assert sorted(t["code"] for t in tickets[1:]) == sorted(t["code"] for t in paid["tickets"])

    for ticket in tickets:  # one ticket by its code: the same as in the list
        one = client.get(f"/tickets/{ticket['code']}", headers=buyer["headers"])
        assert one.status_code == 200 and one.get_json() == {"ticket": ticket}
    assert len(client.get("/tickets", headers=other["headers"]).get_json()["tickets"]) == 1


def test_a_ticket_of_someone_else_is_not_found_exactly_like_no_ticket(api, client):
    event = api.seed(rows="A", per_row=1)
    holder, stranger = api.user(), api.user()
    client.post(f"/seats/{event['seat_ids'][0]}/lock", headers=holder["headers"])
    code = client.post(f"/seats/{event['seat_ids'][0]}/confirm", headers=holder["headers"]).get_json()["ticket"]["code"]

    theirs = client.get(f"/tickets/{code}", headers=stranger["headers"])
    nothing = client.get("/tickets/AAAAAAAAAAAAAAAAAAAAAA", headers=stranger["headers"])
    assert theirs.status_code == nothing.status_code == 404
    assert theirs.get_json() == nothing.get_json()
    assert theirs.get_json()["code"] == "ticket_not_found"
    assert client.get("/tickets", headers=stranger["headers"]).get_json() == {"tickets": []}


@pytest.mark.parametrize("code", ["%00", "x" * 41, "%C3%A9t%C3%A9", "a%20b", "..", "%F0%9F%8E%AB"])
def test_codes_that_cannot_be_tickets_are_not_found(api, client, code):
    user = api.user()
    response = client.get(f"/tickets/{code}", headers=user["headers"])
    assert response.status_code == 404 and response.get_json()["code"] == "ticket_not_found"


def test_tickets_need_a_token(client):
    for path in ("/tickets", "/tickets/AAAAAAAAAAAAAAAAAAAAAA"):
        response = client.get(path)
        assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"
