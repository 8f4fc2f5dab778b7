"""Events and seat maps, read without a token; states computed at read time."""

from __future__ import annotations

import pytest


def test_events_list_counts_seats_by_state(api, client):
    event = api.seed(name="Gala", rows="A-B", per_row=5, price_cents=2500, currency="eur")
    user, other = api.user(), api.user()
    first, second, third = event["seat_ids"][:3]
    assert client.post(f"/seats/{first}/lock", headers=user["headers"]).status_code == 200
    assert client.post(f"/seats/{second}/lock", headers=other["headers"]).status_code == 200
    api.lock_taken_ago(user["id"], third, seconds_ago=120)

    events = client.get("/events").get_json()["events"]
    assert events == [
        {
            "id": event["id"],
            "name": "Gala",
            "starts_at": None,
            "currency": "EUR",
            "seat_count": 10,
            "available": 8,
            "locked": 2,
            "booked": 0,
            "blocked": 0,
            "status": "on_sale",
            "sales_start": None,
            "sales_end": None,
            "venue_id": None,
            "organization_id": None,
            "categories": [],
            "no_orphan_seats": False,
            "buyer_refunds_until": None,
            "focal_point": None,
        }
    ]
    assert client.get(f"/events/{event['id']}").get_json()["event"] == events[0]


def test_unknown_event_is_event_not_found(client):
    for path in ("/events/999", "/events/999/seats", "/events/abc", "/events/-1", "/events/" + "9" * 30):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["code"] == "event_not_found", path


def test_seat_map_is_ordered_by_id_with_labels_and_prices(api, client):
    event = api.seed(rows="A-B", per_row=3, price_cents=1250)
    body = client.get(f"/events/{event['id']}/seats").get_json()
    assert body["event_id"] == event["id"]
    assert [seat["label"] for seat in body["seats"]] == ["A1", "A2", "A3", "B1", "B2", "B3"]
    assert [seat["id"] for seat in body["seats"]] == sorted(seat["id"] for seat in body["seats"])
    assert body["seats"][4] == {
        "id": event["seat_ids"][4],
        "event_id": event["id"],
        "label": "B2",
        "row": "B",
        "number": 2,
        "price": "12.50",
        "status": "available",
        "is_taken": False,
        "section": "",
        "category": None,
        "accessible": False,
        "x": None,
        "y": None,
    }


def test_status_filter(api, client):
    event = api.seed(rows="A", per_row=4)
    user = api.user()
    client.post(f"/seats/{event['seat_ids'][1]}/lock", headers=user["headers"])
    locked = client.get(f"/events/{event['id']}/seats?status=locked").get_json()["seats"]
    available = client.get(f"/events/{event['id']}/seats?status=available").get_json()["seats"]
    assert [seat["id"] for seat in locked] == [event["seat_ids"][1]]
    assert len(available) == 3
    assert client.get(f"/events/{event['id']}/seats?status=booked").get_json()["seats"] == []


@pytest.mark.parametrize("status", ["free", "LOCKED", ""])
def test_bad_status_filter_is_400(api, client, status):
    event = api.seed()
    response = client.get(f"/events/{event['id']}/seats?status={status}")
    assert response.status_code == 400
    assert response.get_json()["code"] == "validation_error"
    assert "status" in response.get_json()["details"]


def test_seats_across_events_and_filtered_by_event(api, client):
    first, second = api.seed(per_row=2, rows="A"), api.seed(per_row=3, rows="A")
    assert len(client.get("/seats").get_json()["seats"]) == 5
    only_second = client.get(f"/seats?event_id={second['id']}").get_json()["seats"]
    assert [seat["id"] for seat in only_second] == second["seat_ids"]
    assert (
        client.get(f"/seats?event_id={first['id']}&status=available").get_json()["seats"][0]["event_id"] == first["id"]
    )


@pytest.mark.parametrize("query", ["event_id=abc", "event_id=-1", "event_id=" + "9" * 30, "status=gone"])
def test_bad_seat_query_is_400(client, query):
    response = client.get(f"/seats?{query}")
    assert response.status_code == 400
    assert response.get_json()["code"] == "validation_error"


def test_one_seat_and_unknown_seats(api, client):
    event = api.seed()
    seat_id = event["seat_ids"][0]
    assert client.get(f"/seats/{seat_id}").get_json()["seat"]["label"] == "A1"
    for path in ("/seats/999999", "/seats/abc", "/seats/-1", "/seats/0", "/seats/" + "9" * 30, "/seats/1.5"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["code"] == "seat_not_found", path


def test_only_the_holder_sees_locked_by_me(api, client):
    event = api.seed()
    seat_id = event["seat_ids"][0]
    holder, other = api.user(), api.user()
    expires = client.post(f"/seats/{seat_id}/lock", headers=holder["headers"]).get_json()["lock_expires_at"]

    mine = client.get(f"/seats/{seat_id}", headers=holder["headers"]).get_json()["seat"]
    assert mine["status"] == "locked"
    assert mine["locked_by_me"] is True
    assert mine["lock_expires_at"] == expires

    for headers in (other["headers"], {}):
        seen = client.get(f"/seats/{seat_id}", headers=headers).get_json()["seat"]
        assert seen["status"] == "locked"
        assert "locked_by_me" not in seen and "lock_expires_at" not in seen
    in_map = client.get(f"/events/{event['id']}/seats", headers=holder["headers"]).get_json()["seats"][0]
    assert in_map["locked_by_me"] is True


def test_expired_lock_reads_available_everywhere_without_cleanup(api, client):
    event = api.seed(rows="A", per_row=2)
    user = api.user()
    seat_id = event["seat_ids"][0]
    api.lock_taken_ago(user["id"], seat_id, seconds_ago=120)

    assert client.get(f"/seats/{seat_id}", headers=user["headers"]).get_json()["seat"]["status"] == "available"
    assert client.get(f"/events/{event['id']}/seats?status=available").get_json()["seats"][0]["id"] == seat_id
    assert client.get(f"/events/{event['id']}/seats?status=locked").get_json()["seats"] == []
    assert client.get("/seats?status=locked").get_json()["seats"] == []
    assert client.get(f"/events/{event['id']}").get_json()["event"]["available"] == 2
    # and anyone may take it
    other = api.user()
    assert client.post(f"/seats/{seat_id}/lock", headers=other["headers"]).status_code == 200
