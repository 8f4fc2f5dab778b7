"""POST /events/<id>/best-available: the contract's choice, its filters, errors and limits, on both
databases; and the orphan rule of POST /orders on events with `no_orphan_seats`."""

from __future__ import annotations

import pytest

from tests.organizers import THEATRE_PRICES, layout


def best(api, who, event_id, **body):
    return api.client.post(f"/events/{event_id}/best-available", json=body, headers=who["headers"])


def labels(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [seat["label"] for seat in response.get_json()["seats"]]


def seats_by_label(api, event_id) -> dict[str, int]:
    return {seat["label"]: seat["id"] for seat in api.client.get(f"/events/{event_id}/seats").get_json()["seats"]}


def lock(api, who, seat_id) -> None:
    response = api.client.post(f"/seats/{seat_id}/lock", headers=who["headers"])
    assert response.status_code == 200, response.get_json()


def refused(response, status: int, code: str) -> dict:
    body = response.get_json()
    assert (response.status_code, body["code"]) == (status, code), body
    return body


@pytest.fixture
def theatre(organizers) -> dict:
    """The example theatre (docs/layouts/theatre.json, 400 seats) on sale: `{"event", "seats", "manager"}`."""
    manager = organizers.api.user()
    organization_id = organizers.organization(manager)
    venue = organizers.venue(manager, organization_id, layout("theatre"), name="Theatre")
    event = organizers.event(manager, organization_id, venue["id"], categories=THEATRE_PRICES)
    organizers.publish(manager, event["id"])
    return {"event": event, "seats": seats_by_label(organizers.api, event["id"]), "manager": manager}


def test_a_seeded_event_gives_the_middle_of_the_first_row_locked_as_a_lock_would(api):
    event = api.seed(rows="A-C", per_row=10)
    buyer = api.user()
    response = best(api, buyer, event["id"], count=2)
    assert labels(response) == ["A5", "A6"]
    body = response.get_json()
    assert body["message"].startswith("Seats A5, A6 locked until")
    assert all(seat["status"] == "locked" and seat["locked_by_me"] for seat in body["seats"])
    assert {seat["lock_expires_at"] for seat in body["seats"]} == {body["lock_expires_at"]}
    other = api.user()
    seen = api.client.get(f"/seats/{body['seats'][0]['id']}", headers=other["headers"]).get_json()["seat"]
    assert seen["status"] == "locked" and "locked_by_me" not in seen
    # The holder may give each seat back like any lock.
    released = api.client.delete(f"/seats/{body['seats'][0]['id']}/lock", headers=buyer["headers"])
    assert released.status_code == 200


def test_the_theatre_gives_the_pair_nearest_its_focal_point_ties_to_the_lower_number(api, theatre):
    event_id = theatre["event"]["id"]
    buyer = api.user()
    # Focal point (13.5, 4): row E; 13 and 14 are the aisle, so E11-12 and E15-16 tie: the lower number.
    assert labels(best(api, buyer, event_id, count=2)) == ["Stalls E11", "Stalls E12"]
    assert labels(best(api, buyer, event_id, count=2)) == ["Stalls E15", "Stalls E16"]
    # Next nearest: D11-12 and F11-12 tie at the same distance: the lower row index.
    assert labels(best(api, buyer, event_id, count=2)) == ["Stalls D11", "Stalls D12"]


def test_filters_category_section_and_accessible(api, theatre):
    event_id = theatre["event"]["id"]
    buyer = api.user()
    assert labels(best(api, buyer, event_id, count=2, category="Standard")) == ["Stalls F11", "Stalls F12"]
    assert labels(best(api, buyer, event_id, count=2, section="Balcony")) == ["Balcony A8", "Balcony A9"]
    # The only accessible places are L1, L2, L25, L26: both pairs as near, the lower number first.
    response = best(api, buyer, event_id, count=2, accessible=2)
    assert labels(response) == ["Stalls L1", "Stalls L2"]
    assert all(seat["accessible"] for seat in response.get_json()["seats"])
    three = best(api, buyer, event_id, count=3, accessible=1)
    assert labels(three) == ["Stalls L24", "Stalls L25", "Stalls L26"]


def test_nothing_that_fits_is_409_no_seats_available(api, theatre):
    event_id = theatre["event"]["id"]
    buyer = api.user()
    refused(best(api, buyer, event_id, count=2, category="Nosebleed"), 409, "no_seats_available")
    refused(best(api, buyer, event_id, count=2, section="Gallery"), 409, "no_seats_available")
    refused(best(api, buyer, event_id, count=3, accessible=3), 409, "no_seats_available")
    assert api.client.get(f"/events/{event_id}").get_json()["event"]["locked"] == 0


def test_a_block_that_leaves_no_orphan_beats_a_nearer_one_that_does(api):
    event = api.seed(rows="A", per_row=6)  # focal point x = 3.5
    seats = seats_by_label(api, event["id"])
    lock(api, api.user(), seats["A1"])
    # A3-A4 is nearest but would leave A2 alone; A2-A3 leaves A4-A6 together.
    assert labels(best(api, api.user(), event["id"], count=2)) == ["A2", "A3"]


def test_when_every_block_leaves_an_orphan_the_nearest_is_given(api):
    event = api.seed(rows="A", per_row=3)
    assert labels(best(api, api.user(), event["id"], count=2)) == ["A1", "A2"]


def test_seats_apart_only_when_together_is_false(api):
    event = api.seed(rows="A-B", per_row=3)
    seats = seats_by_label(api, event["id"])
    other = api.user()
    lock(api, other, seats["A2"])
    lock(api, other, seats["B2"])
    buyer = api.user()
    refused(best(api, buyer, event["id"], count=2), 409, "no_seats_available")
    refused(best(api, buyer, event["id"], count=2, together=True), 409, "no_seats_available")
    assert labels(best(api, buyer, event["id"], count=2, together=False)) == ["A1", "A3"]


def test_sold_out_is_409_and_never_a_partial_block(api):
    event = api.seed(rows="A", per_row=3)
    buyer = api.user()
    assert labels(best(api, buyer, event["id"], count=3)) == ["A1", "A2", "A3"]
    refused(best(api, api.user(), event["id"], count=1), 409, "no_seats_available")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"count": 0},
        {"count": 11},
        {"count": "2"},
        {"count": 2.0},
        {"count": 2, "accessible": 3},
        {"count": 2, "accessible": -1},
        {"count": 2, "together": "yes"},
        {"count": 2, "category": 7},
    ],
)
def test_bad_requests_are_400_validation_error(api, body):
    event = api.seed()
    refused(best(api, api.user(), event["id"], **body), 400, "validation_error")


def test_needs_a_token_and_an_event_buyers_may_see(api, organizers):
    event = api.seed()
    response = api.client.post(f"/events/{event['id']}/best-available", json={"count": 1})
    refused(response, 401, "unauthorized")
    refused(best(api, api.user(), 999_999, count=1), 404, "event_not_found")
    manager = api.user()
    organization_id = organizers.organization(manager)
    venue = organizers.venue(manager, organization_id)
    draft = organizers.event(manager, organization_id, venue["id"])
    refused(best(api, api.user(), draft["id"], count=1), 404, "event_not_found")
    refused(best(api, manager, draft["id"], count=1), 409, "event_not_on_sale")
    organizers.publish(manager, draft["id"])
    assert api.client.post(f"/events/{draft['id']}/close", headers=manager["headers"]).status_code == 200
    refused(best(api, api.user(), draft["id"], count=1), 409, "event_not_on_sale")


def test_a_logged_out_token_or_a_deleted_account_gets_401_and_holds_nothing(api):
    """The route leaves the token's lookup to its first read (security.checks_token_itself): a
    revoked token or a deleted account is still refused, for an event that exists and one that does
    not."""
    from ticketing.extensions import db
    from ticketing.models import User

    event = api.seed(rows="A", per_row=6)
    buyer, gone = api.user(), api.user()
    assert api.client.post("/auth/logout", headers=buyer["headers"]).status_code == 200
    for event_id in (event["id"], 999_999):
        body = refused(best(api, buyer, event_id, count=2), 401, "unauthorized")
        assert body["message"] == "The token has been revoked."
    with api.app.app_context():
        db.session.delete(db.session.get(User, gone["id"]))
        db.session.commit()
    for event_id in (event["id"], 999_999):
        body = refused(best(api, gone, event_id, count=2), 401, "unauthorized")
        assert body["message"] == "The token's account no longer exists."
    seats = api.client.get(f"/events/{event['id']}/seats").get_json()["seats"]
    assert {seat["status"] for seat in seats} == {"available"}


def test_the_per_user_limit_counts_the_whole_block(api):
    event = api.seed(rows="A-C", per_row=10)
    buyer = api.user()
    assert len(labels(best(api, buyer, event["id"], count=6))) == 6
    body = refused(best(api, buyer, event["id"], count=5), 409, "hold_limit_reached")
    assert "10" in body["message"]
    assert len(labels(best(api, buyer, event["id"], count=4))) == 4
    refused(best(api, buyer, event["id"], count=1), 409, "hold_limit_reached")


@pytest.mark.parametrize("settings", [{"MAX_HOLDS_PER_ADDRESS": 5}])
def test_the_per_address_limit_counts_every_account_behind_the_address(api, settings):
    event = api.seed(rows="A-C", per_row=10)
    assert len(labels(best(api, api.user(), event["id"], count=3))) == 3
    refused(best(api, api.user(), event["id"], count=3), 409, "hold_limit_reached")
    assert len(labels(best(api, api.user(), event["id"], count=2))) == 2


def test_the_change_feed_shows_the_holds(api):
    event = api.seed(rows="A-B", per_row=6)
    cursor = api.client.get(f"/events/{event['id']}/changes").get_json()["cursor"]
    response = best(api, api.user(), event["id"], count=3)
    held = {seat["id"] for seat in response.get_json()["seats"]}
    feed = api.client.get(f"/events/{event['id']}/changes", query_string={"since": cursor}).get_json()
    assert {(change["seat_id"], change["status"]) for change in feed["changes"]} == {(i, "locked") for i in held}


def test_the_held_block_can_be_ordered(api):
    event = api.seed(rows="A", per_row=8, price_cents=1500)
    buyer = api.user()
    held = [seat["id"] for seat in best(api, buyer, event["id"], count=2).get_json()["seats"]]
    response = api.client.post("/orders", json={"seat_ids": held}, headers=buyer["headers"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["order"]["total"] == "30.00"


# The orphan rule of orders. The small layout: row A (Stalls) 1-3 and row B 1-3.


def test_an_order_that_leaves_a_seat_alone_is_409_orphan_seat(api, organizers):
    sale = organizers.on_sale(no_orphan_seats=True)
    seats, buyer = sale["seats"], api.user()
    response = api.client.post("/orders", json={"seat_ids": [seats["A2"]]}, headers=buyer["headers"])
    body = refused(response, 409, "orphan_seat")
    assert body["details"]["orphans"] == [seats["A1"], seats["A3"]]
    assert "A1" in body["message"] and "A3" in body["message"]
    # Nothing was taken.
    assert api.client.get(f"/seats/{seats['A2']}").get_json()["seat"]["status"] == "available"
    response = api.client.post("/orders", json={"seat_ids": [seats["B3"], seats["B2"]]}, headers=buyer["headers"])
    body = refused(response, 409, "orphan_seat")
    assert body["details"]["orphans"] == [seats["B1"]]
    ok = api.client.post("/orders", json={"seat_ids": [seats["A1"], seats["B1"]]}, headers=buyer["headers"])
    assert ok.status_code == 201, ok.get_json()


def test_a_seat_alone_already_does_not_refuse_an_order(api, organizers):
    sale = organizers.on_sale(no_orphan_seats=True)
    seats = sale["seats"]
    lock(api, api.user(), seats["B2"])
    # B1 and B3 are alone already; ordering one of them leaves nothing newly alone.
    again = api.client.post("/orders", json={"seat_ids": [seats["B3"]]}, headers=api.user()["headers"])
    assert again.status_code == 201, again.get_json()


def test_without_the_rule_any_selection_may_be_ordered(api, organizers):
    sale = organizers.on_sale()
    response = api.client.post("/orders", json={"seat_ids": [sale["seats"]["A2"]]}, headers=api.user()["headers"])
    assert response.status_code == 201, response.get_json()


def test_best_available_on_an_event_without_orphans_offers_only_blocks_that_leave_none(api, organizers):
    sale = organizers.on_sale(no_orphan_seats=True)
    event_id = sale["event"]["id"]
    buyer = api.user()
    # Every pair in a row of three leaves one alone: those would be refused at checkout.
    refused(best(api, buyer, event_id, count=2), 409, "no_seats_available")
    held = best(api, buyer, event_id, count=3)
    assert labels(held) == ["A1", "A2", "A3"]
    ids = [seat["id"] for seat in held.get_json()["seats"]]
    assert api.client.post("/orders", json={"seat_ids": ids}, headers=buyer["headers"]).status_code == 201


@pytest.fixture
def row_by_row(monkeypatch):
    """Read the free seats one row at a time (the first read is usually all a choice needs)."""
    monkeypatch.setattr("ticketing.services.best_available.BATCH_ROWS", 1)


def test_rows_read_one_by_one_give_the_same_answers(api, theatre, row_by_row):
    event_id = theatre["event"]["id"]
    buyer = api.user()
    assert labels(best(api, buyer, event_id, count=2)) == ["Stalls E11", "Stalls E12"]
    assert labels(best(api, buyer, event_id, count=2, section="Balcony")) == ["Balcony A8", "Balcony A9"]
    assert labels(best(api, buyer, event_id, count=2, accessible=2)) == ["Stalls L1", "Stalls L2"]
    refused(best(api, buyer, event_id, count=3, accessible=3), 409, "no_seats_available")


def test_a_full_front_row_sends_the_choice_further_back(api, row_by_row):
    event = api.seed(rows="A-C", per_row=4)
    seats = seats_by_label(api, event["id"])
    other = api.user()
    lock(api, other, seats["A2"])
    # Row A has no 4 together; B is next.
    assert labels(best(api, api.user(), event["id"], count=4)) == ["B1", "B2", "B3", "B4"]
    lock(api, other, seats["C2"])
    refused(best(api, api.user(), event["id"], count=3), 409, "no_seats_available")
    assert labels(best(api, api.user(), event["id"], count=3, together=False)) == ["A1", "A3", "A4"]
