"""Waiting change-feed requests: the per-address cap, and waiting by callback (what holding_worker.py uses)."""

from __future__ import annotations

import threading
import time

import pytest

from ticketing.errors import HeldFeedLimitError

from ..waiting import wait_until


@pytest.fixture
def settings():
    return {"CHANGES_POLL_MS": 50, "MAX_HELD_FEEDS_PER_ADDRESS": 2}


def _get(app, path: str, address: str):
    return app.test_client().get(path, environ_base={"REMOTE_ADDR": address})


def test_an_address_over_the_cap_gets_429_at_once_and_others_still_wait(api, app, client):
    event = api.seed(rows="A", per_row=2)
    seat = event["seat_ids"][0]
    user = api.user()
    cursor = client.get(f"/events/{event['id']}/changes").get_json()["cursor"]
    watch = app.extensions["feed_watch"]
    held_path = f"/events/{event['id']}/changes?since={cursor}&wait=20"
    answers: list = []
    waiters = [
        threading.Thread(target=lambda: answers.append(_get(app, held_path, "10.0.0.1").get_json())) for _ in range(2)
    ]
    for waiter in waiters:
        waiter.start()
    wait_until(lambda: watch.waiting_from("10.0.0.1") == 2)

    refused = _get(app, held_path, "10.0.0.1")  # answered at once, not after 20 s
    assert refused.status_code == 429 and refused.get_json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    # Reading without `wait` is never refused, and another address waits as usual.
    assert _get(app, f"/events/{event['id']}/changes?since={cursor}", "10.0.0.1").status_code == 200
    other = _get(app, f"/events/{event['id']}/changes?since={cursor}&wait=0.2", "10.0.0.2")
    assert other.status_code == 200 and other.get_json()["changes"] == []

    assert client.post(f"/seats/{seat}/lock", headers=user["headers"]).status_code == 200
    for waiter in waiters:
        waiter.join(timeout=15)
    assert [answer["changes"] for answer in answers] == [[{"seat_id": seat, "status": "locked"}]] * 2
    assert watch.waiting_from("10.0.0.1") == 0  # the places are free again


def test_a_hold_wakes_at_its_deadline_or_with_a_change_and_counts_towards_the_cap(api, app, client):
    event = api.seed(rows="A", per_row=2)
    user = api.user()
    cursor = client.get(f"/events/{event['id']}/changes").get_json()["cursor"]
    watch = app.extensions["feed_watch"]

    timed_out = threading.Event()
    started = time.monotonic()
    watch.hold(event["id"], after=cursor, deadline=started + 0.3, wake=timed_out.set, address="10.0.0.3")
    assert watch.waiting_from("10.0.0.3") == 1
    assert timed_out.wait(timeout=10) and time.monotonic() - started >= 0.3
    assert watch.waiting_from("10.0.0.3") == 0

    changed = threading.Event()
    watch.hold(event["id"], after=cursor, deadline=time.monotonic() + 60, wake=changed.set, address="10.0.0.3")
    watch.hold(event["id"], after=cursor, deadline=time.monotonic() + 60, wake=changed.set, address="10.0.0.3")
    with pytest.raises(HeldFeedLimitError):
        watch.hold(event["id"], after=cursor, deadline=time.monotonic() + 60, wake=changed.set, address="10.0.0.3")
    assert client.post(f"/seats/{event['seat_ids'][1]}/lock", headers=user["headers"]).status_code == 200
    assert changed.wait(timeout=10)  # long before the 60 s deadline
    wait_until(lambda: watch.waiting_from("10.0.0.3") == 0)
