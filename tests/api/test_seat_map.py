"""The seat map's ETag, 304s and gzip: a client's cached copy is current exactly when the ETag says so."""

from __future__ import annotations

import gzip
import json

import pytest

from ticketing.clock import ManualClock


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def settings(clock):
    return {"CLOCK": clock, "HOLD_TTL_SECONDS": 60}


def _map(client, event_id, etag=None, headers=None, **query):
    headers = dict(headers or {})
    if etag:
        headers["If-None-Match"] = etag
    path = f"/events/{event_id}/seats" + (f"?status={query['status']}" if "status" in query else "")
    return client.get(path, headers=headers)


def test_unchanged_map_is_304_and_every_change_moves_the_etag(api, client, clock):
    event = api.seed(rows="A", per_row=4, price_cents=1000)
    seat, other_seat = event["seat_ids"][0], event["seat_ids"][1]
    user = api.user()

    first = _map(client, event["id"])
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    not_modified = _map(client, event["id"], etag)
    assert not_modified.status_code == 304 and not_modified.data == b"" and not_modified.headers["ETag"] == etag

    tags = {etag}
    client.post(f"/seats/{seat}/lock", headers=user["headers"])  # a lock
    changed = _map(client, event["id"], etag)
    assert changed.status_code == 200 and changed.headers["ETag"] not in tags
    assert changed.get_json()["seats"][0]["status"] == "locked"
    tags.add(changed.headers["ETag"])

    clock.advance(61)  # the lock runs out with nothing written: the map must still change
    expired = _map(client, event["id"], changed.headers["ETag"])
    assert expired.status_code == 200 and expired.headers["ETag"] not in tags
    assert expired.get_json()["seats"][0]["status"] == "available"
    tags.add(expired.headers["ETag"])

    assert api.app.test_cli_runner().invoke(args=["expire-holds"]).exit_code == 0  # tidied: same map, new tag
    tidied = _map(client, event["id"], expired.headers["ETag"])
    assert tidied.status_code == 200 and tidied.headers["ETag"] not in tags
    tags.add(tidied.headers["ETag"])

    order = client.post("/orders", json={"seat_ids": [other_seat]}, headers=user["headers"]).get_json()["order"]
    client.post(f"/orders/{order['id']}/pay", json={"payment_token": "tok_visa"}, headers=user["headers"])
    sold = _map(client, event["id"], tidied.headers["ETag"])
    assert sold.status_code == 200 and sold.headers["ETag"] not in tags
    assert sold.get_json()["seats"][1]["status"] == "booked"
    assert _map(client, event["id"], sold.headers["ETag"]).status_code == 304


def test_the_holder_gets_its_own_etag_and_locked_by_me(api, client):
    event = api.seed(rows="A", per_row=2)
    holder = api.user()
    client.post(f"/seats/{event['seat_ids'][0]}/lock", headers=holder["headers"])
    anonymous = _map(client, event["id"])
    mine = _map(client, event["id"], headers=holder["headers"])
    assert anonymous.headers["ETag"] != mine.headers["ETag"]
    assert "locked_by_me" not in anonymous.get_json()["seats"][0]
    assert mine.get_json()["seats"][0]["locked_by_me"] is True
    # the anonymous copy is not the holder's current copy
    assert _map(client, event["id"], anonymous.headers["ETag"], headers=holder["headers"]).status_code == 200


def test_status_filter_has_its_own_etag(api, client):
    event = api.seed(rows="A", per_row=3)
    everything = _map(client, event["id"])
    only_free = _map(client, event["id"], status="available")
    assert everything.headers["ETag"] != only_free.headers["ETag"]
    assert _map(client, event["id"], everything.headers["ETag"], status="available").status_code == 200


def test_gzip_when_asked(api, client):
    event = api.seed(rows="A-C", per_row=20)
    plain = _map(client, event["id"])
    zipped = _map(client, event["id"], headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.data)) == plain.get_json()
    assert len(zipped.data) < len(plain.data) / 3
    assert "Accept-Encoding" in zipped.headers["Vary"]


def test_unknown_event_map_is_still_404(client):
    response = client.get("/events/424242/seats", headers={"If-None-Match": 'W/"x"'})
    assert response.status_code == 404 and response.get_json()["code"] == "event_not_found"
