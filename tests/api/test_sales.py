"""Who sees an event, and when it sells: drafts exist only for their organization; holds and orders
answer 409 event_not_on_sale outside sales (closed, before or after the sales window, started)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ticketing.clock import ManualClock
from ticketing.models import utcnow

START = utcnow().replace(microsecond=0)


def _code(response) -> tuple[int, str | None]:
    return response.status_code, (response.get_json() or {}).get("code")


@pytest.fixture
def world(api, organizers):
    """A draft (small layout) of an organization with an owner and a door member; a buyer outside it."""
    owner, door, buyer = api.user(), api.user(), api.user()
    organization_id = organizers.organization(owner)
    organizers.add_member(owner, organization_id, door, "door")
    venue = organizers.venue(owner, organization_id)
    event = organizers.event(owner, organization_id, venue["id"])
    seats = [seat["id"] for seat in organizers.seats(event["id"], owner)]
    return {"owner": owner, "door": door, "buyer": buyer, "event": event, "seats": seats}


def test_a_draft_does_not_exist_for_anyone_outside_its_organization(api, client, organizers, world):
    event_id, seat_id = world["event"]["id"], world["seats"][0]
    public = api.seed(rows="A", per_row=1)  # an event on sale beside it
    for headers in ({}, world["buyer"]["headers"]):
        listed = client.get("/events", headers=headers).get_json()["events"]
        assert [event["id"] for event in listed] == [public["id"]]
        for path in (f"/events/{event_id}", f"/events/{event_id}/seats", f"/events/{event_id}/changes"):
            assert _code(client.get(path, headers=headers)) == (404, "event_not_found"), path
        assert _code(client.get(f"/seats/{seat_id}", headers=headers)) == (404, "seat_not_found")
        assert client.get(f"/seats?event_id={event_id}", headers=headers).get_json() == {"seats": []}
        everything = client.get("/seats", headers=headers).get_json()["seats"]
        assert [seat["id"] for seat in everything] == public["seat_ids"]
    buyer = world["buyer"]["headers"]
    assert _code(client.post(f"/seats/{seat_id}/lock", headers=buyer)) == (404, "seat_not_found")
    assert _code(client.post("/orders", json={"seat_ids": [seat_id]}, headers=buyer)) == (404, "seat_not_found")
    mixed = client.post("/orders", json={"seat_ids": [seat_id, public["seat_ids"][0]]}, headers=buyer)
    assert _code(mixed) == (404, "seat_not_found")


def test_members_and_admins_see_the_draft_but_cannot_buy_it(client, organizers, world):
    event_id, seat_id = world["event"]["id"], world["seats"][0]
    for who in (world["door"], world["owner"], organizers.admin()):
        assert [event["id"] for event in client.get("/events", headers=who["headers"]).get_json()["events"]] == [
            event_id
        ]
        assert client.get(f"/events/{event_id}", headers=who["headers"]).get_json()["event"]["status"] == "draft"
        assert len(organizers.seats(event_id, who)) == 6
        assert client.get(f"/seats/{seat_id}", headers=who["headers"]).status_code == 200
        assert client.get(f"/events/{event_id}/changes", headers=who["headers"]).status_code == 200
        assert _code(client.post(f"/seats/{seat_id}/lock", headers=who["headers"])) == (409, "event_not_on_sale")
        order = client.post("/orders", json={"seat_ids": [seat_id]}, headers=who["headers"])
        assert _code(order) == (409, "event_not_on_sale")


def test_published_events_sell_and_closed_ones_do_not(client, organizers, world):
    owner, buyer = world["owner"], world["buyer"]["headers"]
    event_id, (first, second, third, *_) = world["event"]["id"], world["seats"]
    organizers.publish(owner, event_id)
    assert client.get(f"/events/{event_id}").get_json()["event"]["status"] == "on_sale"
    assert client.post(f"/seats/{first}/lock", headers=buyer).status_code == 200
    assert client.post("/orders", json={"seat_ids": [second]}, headers=buyer).status_code == 201
    assert client.post(f"/events/{event_id}/close", headers=owner["headers"]).status_code == 200
    assert _code(client.post(f"/seats/{third}/lock", headers=buyer)) == (409, "event_not_on_sale")
    assert _code(client.post(f"/seats/{first}/lock", headers=buyer)) == (409, "event_not_on_sale")  # no renewal
    assert _code(client.post("/orders", json={"seat_ids": [third]}, headers=buyer)) == (409, "event_not_on_sale")
    # Buyers still see a closed event and its map.
    assert client.get(f"/events/{event_id}").get_json()["event"]["status"] == "closed"
    assert len(client.get(f"/events/{event_id}/seats").get_json()["seats"]) == 6


@pytest.fixture
def settings():
    return {"CLOCK": ManualClock(START)}


def test_sales_follow_the_window_and_stop_when_the_event_starts(app, client, organizers, world):
    clock = app.extensions["clock"]
    owner, buyer = world["owner"], world["buyer"]["headers"]
    event_id, seat_id = world["event"]["id"], world["seats"][0]

    def iso(hours: float) -> str:
        return (START + timedelta(hours=hours)).isoformat() + "Z"

    window = {"sales_start": iso(1), "sales_end": iso(3), "starts_at": iso(5)}
    assert client.patch(f"/events/{event_id}", json=window, headers=owner["headers"]).status_code == 200
    organizers.publish(owner, event_id)

    def lock() -> tuple[int, str | None]:
        response = client.post(f"/seats/{seat_id}/lock", headers=buyer)
        if response.status_code == 200:  # let it go again, so that the next try is a new hold
            client.delete(f"/seats/{seat_id}/lock", headers=buyer)
        return _code(response)

    assert lock() == (409, "event_not_on_sale")  # before sales_start
    clock.advance(3600)
    assert lock() == (200, None)  # sales_start itself is inside the window
    clock.advance(2 * 3600 - 1)
    assert lock() == (200, None)
    clock.advance(1)
    assert lock() == (409, "event_not_on_sale")  # sales_end is outside
    assert client.patch(f"/events/{event_id}", json={"sales_end": None}, headers=owner["headers"]).status_code == 200
    assert lock() == (200, None)
    clock.advance(2 * 3600)
    assert lock() == (409, "event_not_on_sale")  # started
    order = client.post("/orders", json={"seat_ids": [seat_id]}, headers=buyer)
    assert _code(order) == (409, "event_not_on_sale")


def test_seat_answers_carry_the_layouts_fields(client, organizers, world):
    organizers.publish(world["owner"], world["event"]["id"])
    seat_id = world["seats"][0]
    locked = client.post(f"/seats/{seat_id}/lock", headers=world["buyer"]["headers"]).get_json()["seat"]
    assert {key: locked[key] for key in ("label", "section", "category", "accessible", "x", "y", "price")} == {
        "label": "A1",
        "section": "",
        "category": "Stalls",
        "accessible": False,
        "x": 1,
        "y": 0,
        "price": "25.00",
    }
