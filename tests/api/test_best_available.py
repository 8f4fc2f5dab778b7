"""POST /events/<id>/best-available: the contract's choice, its filters, errors and limits, on both
databases; and the orphan rule of POST /orders on events with `no_orphan_seats`."""

from __future__ import annotations

import pytest

from tests.organizers import THEATRE_PRICES, layout


def best(api, who, event_id, **body):
    return api.client.post(f"/events/{event_id}/best-available", json=body, headers=who["headers"])


def labels(response) -> list[str]:
    return [seat["label"] for seat in response.get_json()["seats"]]


def seats_by_label(api, event_id) -> dict[str, int]:
    return {seat["label"]: seat["id"] for seat in api.client.get(f"/events/{event_id}/seats").get_json()["seats"]}


def lock(api, who, seat_id):
    response = api.client.post(f"/seats/{seat_id}/lock", headers=who["headers"])
    assert response.status_code == 200, response.get_json()


def test_a_seeded_event_gives_the_middle_of_the_first_row(api):
    event = api.seed(rows="A-C", per_row=10)
    buyer = api.user()
    response = best(api, buyer, event["id"], count=2)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert labels(response) == ["A5", "A6"]
    assert body["message"].startswith("Seats A5, A6 locked until")
    assert all(seat["status"] == "locked" and seat["locked_by_me"] for seat in body["seats"])
    assert body["seats"][0]["lock_expires_at"] == body["lock_expires_at"]
