"""`GET /seats` without `event_id` comes in pages (`limit`, `after`, `next_after`); with it, all at once."""

from __future__ import annotations

import pytest


def _walk(client, query: str = "", headers=None) -> tuple[list[list[int]], list]:
    """Every page from the first, following next_after: the pages' seat ids and the cursors seen."""
    pages, cursors, after = [], [], None
    while True:
        suffix = f"&after={after}" if after is not None else ""
        response = client.get(f"/seats?{query}{suffix}", headers=headers or {})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        pages.append([seat["id"] for seat in body["seats"]])
        cursors.append(body["next_after"])
        after = body["next_after"]
        if after is None:
            return pages, cursors
        assert len(pages) < 100, "the pages never end"


def test_pages_cover_every_seat_of_every_event_once_in_id_order(api, client):
    events = [api.seed(rows="A", per_row=n) for n in (9, 4, 12)]
    every_id = sorted(seat for event in events for seat in event["seat_ids"])
    pages, cursors = _walk(client, "limit=7")
    assert [len(page) for page in pages] == [7, 7, 7, 4]
    assert [seat for page in pages for seat in page] == every_id
    assert cursors == [pages[0][-1], pages[1][-1], pages[2][-1], None]

    exact, _ = _walk(client, "limit=5")  # 25 seats in pages of 5: no empty page at the end
    assert [len(page) for page in exact] == [5] * 5

    one_page = client.get("/seats?limit=25").get_json()
    assert one_page["next_after"] is None and len(one_page["seats"]) == 25


def test_the_default_page_is_a_thousand_seats(api, client):
    event = api.seed(rows="A-E", per_row=201)  # 1005 seats
    first = client.get("/seats").get_json()
    assert len(first["seats"]) == 1000 and first["next_after"] == event["seat_ids"][999]
    rest = client.get(f"/seats?after={first['next_after']}").get_json()
    assert [seat["id"] for seat in rest["seats"]] == event["seat_ids"][1000:] and rest["next_after"] is None

    # One event's seats: all of them, without pages (as before), whatever limit says.
    whole = client.get(f"/seats?event_id={event['id']}&limit=2").get_json()
    assert len(whole["seats"]) == 1005 and "next_after" not in whole


def test_pages_of_one_status(api, client):
    event = api.seed(rows="A", per_row=10)
    user = api.user()
    held = event["seat_ids"][1::3]  # 3 seats
    for seat_id in held:
        assert client.post(f"/seats/{seat_id}/lock", headers=user["headers"]).status_code == 200
    pages, _ = _walk(client, "status=locked&limit=2")
    assert pages == [held[:2], held[2:]]
    mine, _ = _walk(client, "status=locked&limit=2", headers=user["headers"])
    assert mine == pages
    assert all(
        seat["locked_by_me"] for seat in client.get("/seats?status=locked", headers=user["headers"]).get_json()["seats"]
    )
    assert client.get(f"/seats?after={event['seat_ids'][-1]}").get_json() == {"seats": [], "next_after": None}


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=abc", "after=-1", "after=x", "after=" + "9" * 30])
def test_bad_page_queries_are_400(client, query):
    response = client.get(f"/seats?{query}")
    assert response.status_code == 400
    assert response.get_json()["code"] == "validation_error"
    assert set(response.get_json()["details"]) == {query.split("=")[0]}
