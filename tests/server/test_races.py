"""Races against a real gunicorn server (several worker processes) with real threads."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from ..race_support import at_once
from ..waiting import wait_until

pytestmark = pytest.mark.race


def test_fifty_users_lock_one_seat_exactly_one_wins(server_factory, backdoor):
    server = server_factory()
    seat_id = backdoor.event(per_row=10)[5]
    users = backdoor.users(50)

    responses = at_once(
        [
            (lambda session, user=user: session.post(f"{server.url}/seats/{seat_id}/lock", headers=user["headers"]))
            for user in users
        ]
    )

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 1, 409: 49}, (statuses, server.log()[-2000:])
    assert {response.json()["code"] for response in responses if response.status_code == 409} == {"seat_locked"}
    winner = next(user for user, response in zip(users, responses, strict=True) if response.status_code == 200)
    seen = requests.get(f"{server.url}/seats/{seat_id}", headers=winner["headers"]).json()["seat"]
    assert seen["status"] == "locked" and seen["locked_by_me"] is True


def test_one_user_racing_for_many_seats_gets_exactly_the_limit(server_factory, backdoor):
    server = server_factory(MAX_SEATS_PER_USER=3)
    seat_ids = backdoor.event(per_row=20)
    user = backdoor.users(1)[0]

    responses = at_once(
        [
            (
                lambda session, seat_id=seat_id: session.post(
                    f"{server.url}/seats/{seat_id}/lock", headers=user["headers"]
                )
            )
            for seat_id in seat_ids
        ]
    )

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 3, 409: 17}, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"hold_limit_reached"}


def test_lock_and_confirm_storm_never_books_a_seat_twice(server_factory, backdoor):
    server = server_factory()
    seat_ids = backdoor.event(rows="A-D", per_row=10)
    users = backdoor.users(24)
    confirmed: list[tuple[int, str, int]] = []  # (seat_id, ticket code, user_id) of every 200 confirm
    statuses: Counter = Counter()
    record = threading.Lock()
    deadline = time.monotonic() + 4

    def shopper(user: dict) -> None:
        rng = random.Random(user["id"])
        with requests.Session() as session:
            for _ in range(200):  # bounded even if the clock misbehaves
                if time.monotonic() > deadline:
                    return
                seat_id = rng.choice(seat_ids)
                locked = session.post(f"{server.url}/seats/{seat_id}/lock", headers=user["headers"])
                outcome = [("lock", locked.status_code)]
                if locked.status_code == 200:
                    done = session.post(f"{server.url}/seats/{seat_id}/confirm", headers=user["headers"])
                    outcome.append(("confirm", done.status_code))
                    if done.status_code == 200:
                        with record:
                            confirmed.append((seat_id, done.json()["ticket"]["code"], user["id"]))
                with record:
                    statuses.update(outcome)

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        list(pool.map(shopper, users))

    assert not [key for key in statuses if key[1] >= 500], (statuses, server.log()[-3000:])
    assert statuses[("confirm", 200)] == len(confirmed) > 0
    booked_seats = [seat_id for seat_id, _, _ in confirmed]
    assert len(booked_seats) == len(set(booked_seats)), "a seat was confirmed twice"
    tickets = backdoor.tickets()
    assert sorted(tickets) == sorted(confirmed), "every 200 confirm is exactly one stored ticket"
    statuses_now = backdoor.seat_statuses(seat_ids)
    assert {seat_id for seat_id, status in statuses_now.items() if status == "booked"} == set(booked_seats)


def test_lock_expires_on_a_live_server_without_any_cleanup(server_factory, backdoor):
    server = server_factory(HOLD_TTL_SECONDS=1)
    seat_id = backdoor.event(per_row=3)[0]
    first, second = backdoor.users(2)

    assert requests.post(f"{server.url}/seats/{seat_id}/lock", headers=first["headers"]).status_code == 200
    refused = requests.post(f"{server.url}/seats/{seat_id}/lock", headers=second["headers"])
    assert refused.status_code == 409 and refused.json()["code"] == "seat_locked"

    # Nothing tidies up: the clock alone turns the seat available once the 1 s hold has run out.
    wait_until(
        lambda: requests.get(f"{server.url}/seats/{seat_id}").json()["seat"]["status"] == "available",
        timeout=10,
        message="the seat still reads locked long after its 1 s hold",
    )
    late = requests.post(f"{server.url}/seats/{seat_id}/confirm", headers=first["headers"])
    assert late.status_code == 409 and late.json()["code"] == "lock_expired"
    assert requests.post(f"{server.url}/seats/{seat_id}/lock", headers=second["headers"]).status_code == 200
    stolen = requests.post(f"{server.url}/seats/{seat_id}/confirm", headers=first["headers"])
    assert stolen.status_code == 409 and stolen.json()["code"] == "seat_not_locked"
