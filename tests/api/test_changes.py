"""The change feed, `GET /events/<id>/changes`: what a live seat map follows instead of reloading.

In-process tests pin the answers (with a clock the test moves); tests/server/test_change_feed_workers.py
checks that the feed is complete when many gunicorn workers change seats at once, and that a held request wakes up.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.event import listen as event_listen
from sqlalchemy.event import remove as event_remove

from ticketing.clock import ManualClock
from ticketing.extensions import db


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def settings(clock):
    return {"CLOCK": clock, "HOLD_TTL_SECONDS": 60, "CHECKOUT_TTL_SECONDS": 600, "CHANGES_POLL_MS": 50}


def _feed(client, event_id, since=None, wait=None):
    query = {key: value for key, value in (("since", since), ("wait", wait)) if value is not None}
    response = client.get(f"/events/{event_id}/changes", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _statuses(feed) -> list[tuple[int, str]]:
    return [(change["seat_id"], change["status"]) for change in feed["changes"]]


def test_without_since_the_feed_gives_the_current_cursor_and_no_changes(api, client):
    event = api.seed(rows="A", per_row=3)
    start = _feed(client, event["id"])
    assert start["changes"] == [] and isinstance(start["cursor"], int)

    user = api.user()
    assert client.post(f"/seats/{event['seat_ids'][0]}/lock", headers=user["headers"]).status_code == 200
    later = _feed(client, event["id"])
    assert later["changes"] == [] and later["cursor"] > start["cursor"]


def test_each_change_appears_once_with_the_latest_status_oldest_first(api, client):
    event = api.seed(rows="A", per_row=4)
    a1, a2, a3, _ = event["seat_ids"]
    user, other = api.user(), api.user()
    cursor = _feed(client, event["id"])["cursor"]

    client.post(f"/seats/{a1}/lock", headers=user["headers"])
    client.post(f"/seats/{a2}/lock", headers=other["headers"])
    client.delete(f"/seats/{a1}/lock", headers=user["headers"])
    client.post(f"/seats/{a3}/lock", headers=user["headers"])

    feed = _feed(client, event["id"], since=cursor)
    # A1 changed twice: it appears once, where its last change falls, with its final status.
    assert _statuses(feed) == [(a2, "locked"), (a1, "available"), (a3, "locked")]
    assert _feed(client, event["id"], since=feed["cursor"])["changes"] == []

    again = _feed(client, event["id"], since=cursor)  # the same cursor answers the same changes again
    assert again["changes"] == feed["changes"] and again["cursor"] >= feed["cursor"]


def test_the_feed_tells_nobody_who_holds_a_seat(api, client):
    event = api.seed(rows="A", per_row=2)
    user = api.user()
    cursor = _feed(client, event["id"])["cursor"]
    client.post(f"/seats/{event['seat_ids'][0]}/lock", headers=user["headers"])
    response = client.get(f"/events/{event['id']}/changes?since={cursor}", headers=user["headers"])
    assert response.get_json()["changes"] == [{"seat_id": event["seat_ids"][0], "status": "locked"}]


def test_orders_payments_and_confirmations_appear_in_the_feed(api, client):
    event = api.seed(rows="A", per_row=4, price_cents=1500)
    free_event = api.seed(name="Free", rows="A", per_row=1)
    a1, a2, a3, a4 = event["seat_ids"]
    user = api.user()
    cursor = _feed(client, event["id"])["cursor"]

    paid = client.post("/orders", json={"seat_ids": [a1, a2]}, headers=user["headers"]).get_json()["order"]
    feed = _feed(client, event["id"], since=cursor)
    assert _statuses(feed) == [(a1, "locked"), (a2, "locked")]

    client.post(f"/orders/{paid['id']}/pay", json={"payment_token": "tok_visa"}, headers=user["headers"])
    feed = _feed(client, event["id"], since=feed["cursor"])
    assert _statuses(feed) == [(a1, "booked"), (a2, "booked")]

    declined = client.post("/orders", json={"seat_ids": [a3]}, headers=user["headers"]).get_json()["order"]
    answer = client.post(
        f"/orders/{declined['id']}/pay", json={"payment_token": "tok_chargeDeclined"}, headers=user["headers"]
    )
    assert answer.status_code == 402
    feed = _feed(client, event["id"], since=feed["cursor"])
    assert _statuses(feed) == [(a3, "available")]  # locked then freed: only the latest status

    cancelled = client.post("/orders", json={"seat_ids": [a4]}, headers=user["headers"]).get_json()["order"]
    client.post(f"/orders/{cancelled['id']}/cancel", headers=user["headers"])
    feed = _feed(client, event["id"], since=feed["cursor"])
    assert _statuses(feed) == [(a4, "available")]

    free_cursor = _feed(client, free_event["id"])["cursor"]
    seat = free_event["seat_ids"][0]
    client.post(f"/seats/{seat}/lock", headers=user["headers"])
    client.post(f"/seats/{seat}/confirm", headers=user["headers"])
    assert _statuses(_feed(client, free_event["id"], since=free_cursor)) == [(seat, "booked")]
    # Another event's changes never leak into this one's feed: nothing new here since the cancel.
    assert _feed(client, event["id"], since=feed["cursor"])["changes"] == []
    assert seat not in {s for s, _ in _statuses(_feed(client, event["id"], since=cursor))}


def test_a_lock_that_runs_out_appears_as_available_with_no_sweeper(api, client, clock):
    event = api.seed(rows="A", per_row=3)
    seat, ordered = event["seat_ids"][0], event["seat_ids"][1]
    user = api.user()
    client.post(f"/seats/{seat}/lock", headers=user["headers"])
    client.post("/orders", json={"seat_ids": [ordered]}, headers=user["headers"])
    cursor = _feed(client, event["id"])["cursor"]

    clock.advance(59)
    assert _feed(client, event["id"], since=cursor)["changes"] == []
    clock.advance(2)  # the plain lock has run out; nothing has been written by anyone
    feed = _feed(client, event["id"], since=cursor)
    assert _statuses(feed) == [(seat, "available")]
    assert _feed(client, event["id"], since=feed["cursor"])["changes"] == []  # reported once, not every time

    clock.advance(600)  # the order's checkout time is over too
    later = _feed(client, event["id"], since=feed["cursor"])
    assert _statuses(later) == [(ordered, "available")]
    # What the feed wrote is what every other answer says.
    assert client.get(f"/seats/{seat}").get_json()["seat"]["status"] == "available"
    assert [o["status"] for o in client.get("/orders", headers=user["headers"]).get_json()["orders"]] == ["expired"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=abc", "since"),
        ("since=-1", "since"),
        ("since=1.5", "since"),
        ("since=99999999999999999999999", "since"),
        ("wait=-1", "wait"),
        ("wait=26", "wait"),
        ("wait=soon", "wait"),
        ("wait=nan", "wait"),
    ],
)
def test_a_bad_cursor_or_wait_is_a_400(api, client, query, field):
    event = api.seed(rows="A", per_row=1)
    response = client.get(f"/events/{event['id']}/changes?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "validation_error" and field in body["details"]


def test_a_cursor_from_the_future_is_a_400_and_an_unknown_event_a_404(api, client):
    event = api.seed(rows="A", per_row=1)
    cursor = _feed(client, event["id"])["cursor"]
    # Far ahead: on PostgreSQL the cursor follows the cluster's transaction ids, which other databases'
    # work moves on too, so a cursor just above this one may be reached by the time it is sent.
    ahead = client.get(f"/events/{event['id']}/changes?since={cursor + 1_000_000_000}")
    assert ahead.status_code == 400 and "since" in ahead.get_json()["details"]

    for path in ("/events/999999/changes", "/events/999999/changes?since=0&wait=1", "/events/abc/changes"):
        missing = client.get(path)
        assert (missing.status_code, missing.get_json()["code"]) == (404, "event_not_found")


def test_a_waiting_request_returns_when_the_wait_runs_out(api, client):
    event = api.seed(rows="A", per_row=1)
    cursor = _feed(client, event["id"])["cursor"]
    started = time.monotonic()
    feed = _feed(client, event["id"], since=cursor, wait=0.5)
    # The cursor may move on with transactions elsewhere (it is a point in the database's history);
    # this event had no change.
    assert feed["changes"] == [] and feed["cursor"] >= cursor
    assert time.monotonic() - started >= 0.5


def test_a_waiting_request_wakes_up_with_the_change(api, app, client, monkeypatch):
    event = api.seed(rows="A", per_row=2)
    seat = event["seat_ids"][1]
    user = api.user()
    cursor = _feed(client, event["id"])["cursor"]
    answers: list[dict] = []
    # The change must come while the request is held (else it would just be answered at once): the
    # test waits until the request has found nothing new and gone to sleep on the process's watcher.
    watch = app.extensions["feed_watch"]
    held = threading.Event()
    watch_wait = watch.wait

    def wait_and_tell(*args, **kwargs):
        held.set()
        return watch_wait(*args, **kwargs)

    monkeypatch.setattr(watch, "wait", wait_and_tell)

    def wait_for_change():
        answers.append(_feed(app.test_client(), event["id"], since=cursor, wait=20))

    waiter = threading.Thread(target=wait_for_change)
    started = time.monotonic()
    waiter.start()
    assert held.wait(timeout=10), "the request never went to wait for a change"
    assert app.test_client().post(f"/seats/{seat}/lock", headers=user["headers"]).status_code == 200
    waiter.join(timeout=25)
    assert answers and _statuses(answers[0]) == [(seat, "locked")]
    assert time.monotonic() - started < 15  # well before the 20 s wait ran out


def test_waiting_requests_share_one_watcher_instead_of_each_querying(api, app, client):
    """Twenty held requests for 1 s: one change-stamp query per poll interval, not one per request."""
    event = api.seed(rows="A", per_row=2)
    cursor = _feed(client, event["id"])["cursor"]
    counter_reads: list[str] = []

    def count(conn, cursor_, statement, parameters, context, executemany):
        if "changed_in" in statement:
            counter_reads.append(statement)

    with app.app_context():
        engine = db.engine
    event_listen(engine, "before_cursor_execute", count)
    try:
        waiters = [
            threading.Thread(target=lambda: _feed(app.test_client(), event["id"], since=cursor, wait=1))
            for _ in range(20)
        ]
        for waiter in waiters:
            waiter.start()
        for waiter in waiters:
            waiter.join(timeout=10)
    finally:
        event_remove(engine, "before_cursor_execute", count)
    # Each request reads the feed once itself; the watcher reads the stamps every 50 ms (about 20 times)
    # for all of them. Polling per request would be 20 x 20 = 400 reads.
    assert 20 <= len(counter_reads) < 100, len(counter_reads)


def test_the_feed_is_in_the_openapi_document(client):
    operation = client.get("/openapi.json").get_json()["paths"]["/events/{event_id}/changes"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"since", "wait"}
