"""Events made by organizers: a draft from a venue, priced by category; edits; publish and close."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from ticketing.extensions import db
from ticketing.models import Event, EventCategory, Seat

from ..organizers import THEATRE_PRICES, future, layout


@pytest.fixture
def manager(api):
    return api.user()


@pytest.fixture
def organization_id(organizers, manager):
    return organizers.organization(manager)


def _create(client, organization_id: int, who: dict, **body):
    return client.post(f"/organizations/{organization_id}/events", json=body, headers=who["headers"])


def test_a_draft_from_the_theatre_is_priced_by_category(client, organizers, manager, organization_id):
    venue = organizers.venue(manager, organization_id, layout("theatre"))
    starts_at, sales_start = future(60), future(1)
    response = _create(
        client,
        organization_id,
        manager,
        name="Hamlet",
        venue_id=venue["id"],
        starts_at=starts_at,
        currency="eur",
        categories=THEATRE_PRICES,
        sales_start=sales_start,
        no_orphan_seats=True,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    event = body["event"]
    assert body["message"]
    assert event == {
        "id": event["id"],
        "name": "Hamlet",
        "starts_at": starts_at.replace("Z", ".000Z"),
        "currency": "EUR",
        "seat_count": 400,
        "available": 398,
        "locked": 0,
        "booked": 0,
        "blocked": 2,
        "status": "draft",
        "sales_start": sales_start.replace("Z", ".000Z"),
        "sales_end": None,
        "venue_id": venue["id"],
        "organization_id": organization_id,
        "categories": THEATRE_PRICES,
        "no_orphan_seats": True,
        "buyer_refunds_until": None,
        "focal_point": {"x": 13.5, "y": 4},
    }
    seats = {seat["label"]: seat for seat in organizers.seats(event["id"], manager)}
    assert len(seats) == 400
    assert seats["Stalls A1"] == {
        "id": seats["Stalls A1"]["id"],
        "event_id": event["id"],
        "label": "Stalls A1",
        "row": "A",
        "number": 1,
        "price": "45.00",
        "status": "available",
        "is_taken": False,
        "section": "Stalls",
        "category": "Premium",
        "accessible": False,
        "x": 1,
        "y": 0,
    }
    assert (seats["Stalls F15"]["price"], seats["Balcony G16"]["price"]) == ("30.00", "20.00")
    assert (seats["Balcony G16"]["x"], seats["Balcony G16"]["y"]) == (21, 20)
    assert seats["Stalls L1"]["accessible"] is True
    assert [label for label, seat in seats.items() if seat["status"] == "blocked"] == ["Stalls L12", "Stalls L15"]
    one = client.get(f"/seats/{seats['Stalls L15']['id']}", headers=manager["headers"]).get_json()["seat"]
    assert one == seats["Stalls L15"]


def test_seats_without_a_category_take_the_default_price_else_zero(client, organizers, manager, organization_id):
    venue = organizers.venue(manager, organization_id)
    priced = organizers.event(manager, organization_id, venue["id"], default_price="12.5")
    free = organizers.event(manager, organization_id, venue["id"])
    assert {s["label"]: s["price"] for s in organizers.seats(priced["id"], manager)} == {
        "A1": "25.00",
        "A2": "25.00",
        "A3": "25.00",
        "B1": "12.50",
        "B2": "12.50",
        "B3": "12.50",
    }
    assert [s["price"] for s in organizers.seats(free["id"], manager)][3:] == ["0.00"] * 3


def test_the_arena_becomes_an_event_of_20000_seats(client, organizers, manager, organization_id):
    venue = organizers.venue(manager, organization_id, layout("arena"))
    categories = [{"name": "Lower", "price": "80.00"}, {"name": "Upper", "price": 45}]
    event = organizers.event(manager, organization_id, venue["id"], categories=categories, default_price="120.00")
    assert (event["seat_count"], event["available"]) == (20_000, 20_000)
    prices = {}
    for seat in organizers.seats(event["id"], manager):
        prices.setdefault((seat["section"] if seat["category"] is None else seat["category"]), set()).add(seat["price"])
    assert prices == {"Floor": {"120.00"}, "Lower": {"80.00"}, "Upper": {"45.00"}}


def _no_event_written(app) -> None:
    with app.app_context():
        counts = [db.session.scalar(select(func.count()).select_from(model)) for model in (Event, EventCategory, Seat)]
        db.session.remove()
    assert counts == [0, 0, 0], counts


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"categories": [{"name": "Stalls", "price": "1.00"}, {"name": "VIP", "price": "9.00"}]}, ["categories"]),
        ({"categories": []}, ["categories"]),
        ({"categories": [{"name": "Stalls", "price": "1.00"}, {"name": "Stalls", "price": "2.00"}]}, ["categories"]),
        ({"categories": [{"name": "Stalls", "price": "-1.00"}]}, ["categories.0.price"]),
        ({"categories": [{"name": "Stalls", "price": "NaN"}]}, ["categories.0.price"]),
        ({"categories": [{"name": "Stalls", "price": "1.005"}]}, ["categories.0.price"]),
        ({"categories": [{"name": "Stalls"}]}, ["categories.0.price"]),
        ({"default_price": -5}, ["default_price"]),
        ({"starts_at": "2020-01-01T00:00:00Z"}, ["starts_at"]),
        ({"starts_at": "next friday"}, ["starts_at"]),
        ({"sales_start": future(5), "sales_end": future(2)}, ["sales_start", "sales_end"]),
        ({"sales_start": future(40)}, ["sales_start"]),
        ({"currency": "EURO"}, ["currency"]),
        ({"name": ""}, ["name"]),
        ({"name": "x" * 201}, ["name"]),
        ({"no_orphan_seats": "yes"}, ["no_orphan_seats"]),
    ],
)
def test_bad_event_bodies_are_400_at_their_place_and_write_nothing(
    app, client, organizers, manager, organization_id, changes, fields
):
    venue = organizers.venue(manager, organization_id)
    body = {
        "name": "Show",
        "venue_id": venue["id"],
        "starts_at": future(30),
        "categories": [{"name": "Stalls", "price": "25.00"}],
        **changes,
    }
    response = _create(client, organization_id, manager, **body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["code"] == "validation_error"
    assert set(fields) <= set(response.get_json()["details"]), response.get_json()
    _no_event_written(app)


def test_a_nan_price_sent_as_a_json_number_is_400(app, client, organizers, manager, organization_id):
    venue = organizers.venue(manager, organization_id)
    raw = (
        f'{{"name": "Show", "venue_id": {venue["id"]}, "starts_at": "{future()}", '
        '"categories": [{"name": "Stalls", "price": NaN}]}'
    )
    response = client.post(
        f"/organizations/{organization_id}/events",
        data=raw,
        content_type="application/json",
        headers=manager["headers"],
    )
    assert response.status_code == 400 and "categories.0.price" in response.get_json()["details"]
    _no_event_written(app)


def test_a_venue_of_another_organization_is_venue_not_found(api, client, organizers, manager, organization_id):
    stranger = api.user()
    foreign = organizers.venue(stranger, organizers.organization(stranger))
    for venue_id in (foreign["id"], 987654):
        response = _create(
            client, organization_id, manager, name="X", venue_id=venue_id, starts_at=future(), categories=[]
        )
        assert response.status_code == 404 and response.get_json()["code"] == "venue_not_found"


def test_patch_changes_only_what_is_sent(client, organizers, manager, organization_id):
    venue = organizers.venue(manager, organization_id)
    event = organizers.event(manager, organization_id, venue["id"], sales_end=future(10))
    starts_at, refunds = future(90), future(80)
    response = client.patch(
        f"/events/{event['id']}",
        json={"name": "Renamed", "starts_at": starts_at, "sales_end": None, "buyer_refunds_until": refunds},
        headers=manager["headers"],
    )
    assert response.status_code == 200 and response.get_json()["message"]
    changed = response.get_json()["event"]
    assert (changed["name"], changed["starts_at"], changed["sales_end"]) == (
        "Renamed",
        starts_at.replace("Z", ".000Z"),
        None,
    )
    assert changed["buyer_refunds_until"] == refunds.replace("Z", ".000Z") and changed["status"] == "draft"
    nothing = client.patch(f"/events/{event['id']}", json={}, headers=manager["headers"])
    assert nothing.status_code == 200 and nothing.get_json()["event"] == changed


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"starts_at": "2021-06-01T00:00:00Z"}, ["starts_at"]),
        ({"starts_at": None}, ["starts_at"]),
        ({"sales_start": future(20)}, ["sales_start", "sales_end"]),  # after the stored sales_end
        ({"name": None}, ["name"]),
        ({"no_orphan_seats": 1}, ["no_orphan_seats"]),
    ],
)
def test_bad_patches_are_400_and_change_nothing(client, organizers, manager, organization_id, body, fields):
    venue = organizers.venue(manager, organization_id)
    event = organizers.event(manager, organization_id, venue["id"], sales_end=future(10))
    response = client.patch(f"/events/{event['id']}", json=body, headers=manager["headers"])
    assert response.status_code == 400 and set(fields) <= set(response.get_json()["details"]), response.get_json()
    after = client.get(f"/events/{event['id']}", headers=manager["headers"]).get_json()["event"]
    assert after == event


def test_publish_close_and_publish_again(client, organizers, manager, organization_id):
    venue = organizers.venue(manager, organization_id)
    event = organizers.event(manager, organization_id, venue["id"])
    for action, status in (("publish", "on_sale"), ("publish", "on_sale"), ("close", "closed"), ("publish", "on_sale")):
        response = client.post(f"/events/{event['id']}/{action}", headers=manager["headers"])
        assert response.status_code == 200 and response.get_json()["message"]
        assert response.get_json()["event"]["status"] == status


def test_a_cancelled_event_cannot_change(app, client, organizers, manager, organization_id):
    venue = organizers.venue(manager, organization_id)
    event = organizers.event(manager, organization_id, venue["id"])
    with app.app_context():  # the cancel route comes with the next issue; the status is what matters
        db.session.execute(update(Event).where(Event.id == event["id"]).values(status="cancelled"))
        db.session.commit()
    for method, path, body in (
        ("patch", "", {"name": "Again"}),
        ("post", "/publish", None),
        ("post", "/close", None),
    ):
        response = getattr(client, method)(f"/events/{event['id']}{path}", json=body, headers=manager["headers"])
        assert response.status_code == 409 and response.get_json()["code"] == "event_cancelled", path
    shown = client.get(f"/events/{event['id']}").get_json()["event"]  # buyers see a cancelled event
    assert shown["status"] == "cancelled" and shown["name"] == "Première"
