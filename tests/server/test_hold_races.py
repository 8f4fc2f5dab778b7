"""Races on real gunicorn that once broke hold limits or deadlocked (issue 11, points 6, 7 and 11)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from ticketing.extensions import db
from ticketing.models import LOCKED, Seat, utcnow

from ..race_support import at_once

pytestmark = pytest.mark.race


def test_one_address_cannot_hoard_an_event_with_many_accounts(server_factory, backdoor):
    """The attack that was found: one address, 30 accounts, holding seat after seat (and renewing).
    With MAX_HOLDS_PER_ADDRESS=12 exactly 12 seats are held from that address, whatever the accounts."""
    server = server_factory(MAX_SEATS_PER_USER=5, MAX_HOLDS_PER_ADDRESS=12)
    seat_ids = backdoor.event(per_row=60)
    users = backdoor.users(30)
    held, refused = [], Counter()
    with requests.Session() as session:
        for user, pair in zip(users, zip(seat_ids[::2], seat_ids[1::2], strict=True), strict=False):
            for seat_id in pair:
                answer = session.post(f"{server.url}/seats/{seat_id}/lock", headers=user["headers"])
                if answer.status_code == 200:
                    held.append((user, seat_id))
                else:
                    refused[answer.status_code, answer.json()["code"]] += 1
        renewed = [session.post(f"{server.url}/seats/{seat}/lock", headers=user["headers"]) for user, seat in held]
        free_seat = seat_ids[-1]
        order = session.post(f"{server.url}/orders", json={"seat_ids": [free_seat]}, headers=users[-1]["headers"])
    assert len(held) == 12 and refused == {(409, "hold_limit_reached"): 48}, (len(held), refused)
    assert all(answer.status_code == 200 for answer in renewed)  # renewing at the limit still works
    assert order.status_code == 409 and order.json()["code"] == "hold_limit_reached"
    assert "network address" in order.json()["message"]


def test_a_burst_from_one_address_passes_the_limit_by_at_most_what_is_in_flight(server_factory, backdoor, database_url):
    """Eight accounts behind one address fire 40 holds at one instant. SQLite's writers are serialised,
    so exactly the limit wins there; on PostgreSQL the per-address count is read without a lock of its
    own (a lock per address would make every user behind one NAT queue), so simultaneous requests may
    pass it by at most the number in flight."""
    server = server_factory(MAX_SEATS_PER_USER=5, MAX_HOLDS_PER_ADDRESS=12, WORKERS=2, THREADS=4)
    seat_ids = backdoor.event(per_row=40)
    users = backdoor.users(8)
    wanted = [(user, seat_id) for index, user in enumerate(users) for seat_id in seat_ids[index * 5 : index * 5 + 5]]
    responses = at_once(
        [
            (
                lambda session, user=user, seat_id=seat_id: session.post(
                    f"{server.url}/seats/{seat_id}/lock", headers=user["headers"]
                )
            )
            for user, seat_id in wanted
        ]
    )
    winners = sum(response.status_code == 200 for response in responses)
    refusals = {response.json()["code"] for response in responses if response.status_code != 200}
    assert refusals == {"hold_limit_reached"}
    in_flight = 2 * 4  # workers x threads: the requests that can be deciding at the same moment
    if database_url.startswith("sqlite"):
        assert winners == 12
    else:
        assert 12 <= winners <= 12 + in_flight - 1, winners


def test_a_confirm_racing_the_same_users_renewals_never_deadlocks(server_factory, backdoor):
    """A user's confirm and their own renewals of the seat at once: never `503 busy`.

    The user's row was locked FOR UPDATE, which waits on the KEY SHARE lock the new ticket's foreign key
    takes on that row: PostgreSQL found a deadlock and the request answered 503.
    """
    server = server_factory()
    seat_ids = backdoor.event(per_row=10)
    user = backdoor.users(1)[0]
    answers: Counter = Counter()
    for seat_id in seat_ids:
        assert requests.post(f"{server.url}/seats/{seat_id}/lock", headers=user["headers"]).status_code == 200
        calls = [lambda session, s=seat_id: session.post(f"{server.url}/seats/{s}/confirm", headers=user["headers"])]
        calls += [
            (lambda session, s=seat_id: session.post(f"{server.url}/seats/{s}/lock", headers=user["headers"]))
            for _ in range(12)
        ]
        responses = at_once(calls)
        answers.update((response.status_code, response.json().get("code")) for response in responses)
        assert responses[0].status_code == 200, responses[0].json()
    assert set(answers) <= {(200, None), (409, "seat_booked")}, answers


def _live_holds(backdoor, user_id: int) -> int:
    with backdoor.app.app_context():
        query = select(func.count()).where(
            Seat.holder_id == user_id, Seat.status == LOCKED, Seat.locked_until > utcnow()
        )
        count = db.session.scalar(query)
        db.session.rollback()
        return count


def test_renewals_at_the_deadline_never_let_holds_exceed_the_limit(server_factory, backdoor):
    """One user renews and takes holds while their 1 s holds run out: never more than the limit live.

    "now" used to be read before the user's row lock, so a renewal decided just before a deadline
    could commit after new holds decided just after it, and the stored holds went past the limit.
    """
    limit = 3
    server = server_factory(MAX_SEATS_PER_USER=limit, HOLD_TTL_SECONDS=1)
    seat_ids = backdoor.event(per_row=6)
    user = backdoor.users(1)[0]
    stop = threading.Event()
    answers: Counter = Counter()
    most_seen = 0

    def storm() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                answer = session.post(f"{server.url}/seats/{random.choice(seat_ids)}/lock", headers=user["headers"])
                answers[answer.status_code, answer.json()["code"] if answer.status_code != 200 else None] += 1

    with ThreadPoolExecutor(max_workers=24) as pool:
        for _ in range(24):
            pool.submit(storm)
        deadline = time.monotonic() + 6
        try:
            while time.monotonic() < deadline:
                most_seen = max(most_seen, _live_holds(backdoor, user["id"]))
        finally:
            stop.set()
    # 24 threads queue on one user's row: on a loaded machine a wait may pass LOCK_TIMEOUT_MS (503 busy,
    # which a client retries); anything else is a fault.
    assert answers[200, None] > 20, answers
    assert set(answers) <= {(200, None), (409, "hold_limit_reached"), (503, "busy")}, answers
    assert most_seen <= limit, f"{most_seen} live holds stored against a limit of {limit}"
