"""The change feed on real gunicorn workers: complete while many workers change seats, and prompt.

The in-process tests of the feed's answers are in tests/api/test_changes.py.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import requests


def test_the_feed_is_complete_while_four_workers_change_seats(server_factory, backdoor):
    """A follower that only applies the feed ends with exactly the seat map the database holds."""
    server = server_factory(WORKERS=4, THREADS=4, CHANGES_POLL_MS=100)
    seat_ids = backdoor.event(rows="A-B", per_row=15)
    event_id = requests.get(f"{server.url}/seats/{seat_ids[0]}").json()["seat"]["event_id"]
    users = backdoor.users(8)
    start = requests.get(f"{server.url}/events/{event_id}/changes").json()
    stop = threading.Event()
    actions: Counter = Counter()
    count = threading.Lock()

    def shopper(user: dict) -> None:
        rng = random.Random(user["id"])
        with requests.Session() as session:
            for _ in range(400):  # bounded even if the clock misbehaves
                if stop.is_set():
                    return
                seat_id = rng.choice(seat_ids)
                verb = rng.choice(["lock", "lock", "release", "confirm"])
                url = f"{server.url}/seats/{seat_id}/" + ("lock" if verb == "release" else verb)
                method = session.delete if verb == "release" else session.post
                status = method(url, headers=user["headers"]).status_code
                assert status < 500
                with count:
                    actions[(verb, status)] += 1

    seen: dict[int, str] = {seat_id: "available" for seat_id in seat_ids}
    cursors = [start["cursor"]]

    def follow(session: requests.Session, wait: float) -> None:
        answer = session.get(f"{server.url}/events/{event_id}/changes", params={"since": cursors[-1], "wait": wait})
        assert answer.status_code == 200, answer.text
        feed = answer.json()
        assert feed["cursor"] >= cursors[-1]
        assert len({change["seat_id"] for change in feed["changes"]}) == len(feed["changes"])  # each seat once
        for change in feed["changes"]:
            seen[change["seat_id"]] = change["status"]
        cursors.append(feed["cursor"])

    shoppers = [threading.Thread(target=shopper, args=(user,)) for user in users]
    for thread in shoppers:
        thread.start()
    with requests.Session() as session:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            follow(session, wait=1)
        stop.set()
        for thread in shoppers:
            thread.join()
        follow(session, wait=0)  # what happened after the last long poll

    truth = {
        seat["id"]: seat["status"] for seat in requests.get(f"{server.url}/events/{event_id}/seats").json()["seats"]
    }
    assert seen == truth
    assert sum(n for (verb, status), n in actions.items() if status == 200) > 50, actions
    assert "booked" in truth.values() and len(cursors) > 5


def test_a_lock_running_out_reaches_a_waiting_follower_within_seconds(server_factory, backdoor):
    server = server_factory(WORKERS=2, HOLD_TTL_SECONDS=1, CHANGES_POLL_MS=200)
    seat_ids = backdoor.event(per_row=3)
    event_id = requests.get(f"{server.url}/seats/{seat_ids[0]}").json()["seat"]["event_id"]
    user = backdoor.users(1)[0]
    cursor = requests.get(f"{server.url}/events/{event_id}/changes").json()["cursor"]

    assert requests.post(f"{server.url}/seats/{seat_ids[2]}/lock", headers=user["headers"]).status_code == 200
    locked = requests.get(f"{server.url}/events/{event_id}/changes", params={"since": cursor, "wait": 10}).json()
    assert locked["changes"] == [{"seat_id": seat_ids[2], "status": "locked"}]

    started = time.monotonic()
    freed = requests.get(
        f"{server.url}/events/{event_id}/changes", params={"since": locked["cursor"], "wait": 10}
    ).json()
    assert freed["changes"] == [{"seat_id": seat_ids[2], "status": "available"}]
    assert time.monotonic() - started < 5  # the 1 s lock, plus a poll or two; nothing else ran
