"""Blocked seats: the organizer takes seats off sale (all or none) and puts them back; buyers get 409
seat_blocked; maps, filters, counts and the change feed show `blocked`."""

from __future__ import annotations

import pytest


@pytest.fixture
def show(organizers):
    """An event on sale (small layout: A1-A3 priced, B1-B3 free)."""
    return organizers.on_sale()


def _block(client, show, seat_ids, who=None, action="block"):
    who = who or show["manager"]
    return client.post(
        f"/events/{show['event']['id']}/seats/{action}", json={"seat_ids": seat_ids}, headers=who["headers"]
    )


def test_blocked_seats_cannot_be_held_or_ordered_and_show_everywhere(api, client, show):
    a1, a2, b1 = show["seats"]["A1"], show["seats"]["A2"], show["seats"]["B1"]
    event_id = show["event"]["id"]
    cursor = client.get(f"/events/{event_id}/changes").get_json()["cursor"]
    response = client.post(
        f"/events/{event_id}/seats/block",
        json={"seat_ids": [a2, a1], "reason": "Camera"},
        headers=show["manager"]["headers"],
    )
    assert response.status_code == 200
    assert response.get_json() == {"message": "2 seats taken off sale (Camera)", "blocked": [a1, a2]}
    buyer = api.user()
    lock = client.post(f"/seats/{a1}/lock", headers=buyer["headers"])
    assert lock.status_code == 409 and lock.get_json()["code"] == "seat_blocked"
    order = client.post("/orders", json={"seat_ids": [b1, a2]}, headers=buyer["headers"])
    assert order.status_code == 409 and order.get_json()["code"] == "seat_blocked"
    assert order.get_json()["details"] == {"blocked": [a2]}
    assert client.get(f"/seats/{b1}").get_json()["seat"]["status"] == "available"  # nothing of the order stayed
    assert client.get(f"/seats/{a1}").get_json()["seat"]["status"] == "blocked"
    blocked = client.get(f"/events/{event_id}/seats?status=blocked").get_json()["seats"]
    assert [seat["id"] for seat in blocked] == [a1, a2]
    assert [s["id"] for s in client.get(f"/seats?event_id={event_id}&status=blocked").get_json()["seats"]] == [a1, a2]
    assert len(client.get(f"/seats?event_id={event_id}&status=available").get_json()["seats"]) == 4
    event = client.get(f"/events/{event_id}").get_json()["event"]
    assert (event["available"], event["locked"], event["booked"], event["blocked"]) == (4, 0, 0, 2)
    feed = client.get(f"/events/{event_id}/changes?since={cursor}").get_json()
    assert feed["changes"] == [{"seat_id": a1, "status": "blocked"}, {"seat_id": a2, "status": "blocked"}]
    # Put back: one answer lists what was blocked; the feed and the buyer see it free again.
    unblocked = _block(client, show, [a1, b1], action="unblock")
    assert unblocked.status_code == 200
    assert unblocked.get_json() == {"message": "1 seat back on sale", "unblocked": [a1]}
    assert client.post(f"/seats/{a1}/lock", headers=buyer["headers"]).status_code == 200
    changes = client.get(f"/events/{event_id}/changes?since={feed['cursor']}").get_json()["changes"]
    assert changes == [{"seat_id": a1, "status": "locked"}]


def test_blocking_is_all_or_none(api, client, show):
    a1, a2, a3, b1, b2 = (show["seats"][label] for label in ("A1", "A2", "A3", "B1", "B2"))
    buyer = api.user()
    assert client.post(f"/seats/{a1}/lock", headers=buyer["headers"]).status_code == 200
    assert client.post("/orders", json={"seat_ids": [a2]}, headers=buyer["headers"]).status_code == 201
    assert client.post(f"/seats/{b1}/lock", headers=buyer["headers"]).status_code == 200
    assert client.post(f"/seats/{b1}/confirm", headers=buyer["headers"]).status_code == 200
    response = _block(client, show, [b2, a3, b1, a2, a1])
    assert response.status_code == 409 and response.get_json()["code"] == "seats_unavailable"
    assert response.get_json()["details"] == {"unavailable": [a1, a2, b1]}
    statuses = {s["id"]: s["status"] for s in client.get(f"/events/{show['event']['id']}/seats").get_json()["seats"]}
    assert (statuses[a3], statuses[b2]) == ("available", "available")


def test_a_hold_that_ran_out_can_be_blocked(api, client, show):
    a1 = show["seats"]["A1"]
    buyer = api.user()
    api.lock_taken_ago(buyer["id"], a1, seconds_ago=120)
    assert _block(client, show, [a1]).status_code == 200
    assert client.get(f"/seats/{a1}", headers=buyer["headers"]).get_json()["seat"]["status"] == "blocked"


def test_blocking_twice_keeps_the_seat_blocked(client, show):
    a1 = show["seats"]["A1"]
    assert _block(client, show, [a1]).get_json()["blocked"] == [a1]
    assert _block(client, show, [a1]).get_json()["blocked"] == [a1]
    assert client.get(f"/seats/{a1}").get_json()["seat"]["status"] == "blocked"


def test_seats_of_another_event_are_not_found_and_nothing_is_blocked(api, client, show):
    other = api.seed(rows="A", per_row=1)
    a1 = show["seats"]["A1"]
    for seat_ids in ([a1, other["seat_ids"][0]], [a1, 987654]):
        for action in ("block", "unblock"):
            response = _block(client, show, seat_ids, action=action)
            assert response.status_code == 404 and response.get_json()["code"] == "seat_not_found"
    assert client.get(f"/seats/{a1}").get_json()["seat"]["status"] == "available"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"seat_ids": []},
        {"seat_ids": "1"},
        {"seat_ids": [0]},
        {"seat_ids": [1, 1]},
        {"seat_ids": list(range(1, 10_002))},
    ],
)
def test_block_bodies_are_validated(client, show, body):
    for action in ("block", "unblock"):
        response = client.post(
            f"/events/{show['event']['id']}/seats/{action}", json=body, headers=show["manager"]["headers"]
        )
        assert response.status_code == 400 and response.get_json()["code"] == "validation_error"
        assert any(field.startswith("seat_ids") for field in response.get_json()["details"])


def test_a_reason_longer_than_200_characters_is_400(client, show):
    response = client.post(
        f"/events/{show['event']['id']}/seats/block",
        json={"seat_ids": [show["seats"]["A1"]], "reason": "x" * 201},
        headers=show["manager"]["headers"],
    )
    assert response.status_code == 400 and "reason" in response.get_json()["details"]
