"""Seat maps asked for by many threads at once (a gthread worker): each answer is its own event's map."""

from __future__ import annotations

import random
import threading

STATUSES = (None, "available", "locked", "booked")
THREADS, REQUESTS = 8, 30


def _query(status: str | None) -> str:
    return f"?status={status}" if status else ""


def test_threads_sharing_the_map_cache_each_get_the_map_they_asked_for(api, client):
    user = api.user()
    events = [api.seed(name=f"Show {n}", rows="A", per_row=3 + n) for n in range(6)]
    for n, event in enumerate(events):  # every event a different mix: the filters' answers differ
        for seat_id in event["seat_ids"][: n % 3 + 1]:
            assert client.post(f"/seats/{seat_id}/lock", headers=user["headers"]).status_code == 200
        if n % 2:
            confirmed = client.post(f"/seats/{event['seat_ids'][0]}/confirm", headers=user["headers"])
            assert confirmed.status_code == 200
    # The expected answers come from GET /seats, which never touches the map cache.
    expected = {
        (event["id"], status): client.get(
            f"/seats?event_id={event['id']}{_query(status).replace('?', '&')}"
        ).get_json()["seats"]
        for event in events
        for status in STATUSES
    }
    assert len({str(seats) for seats in expected.values()}) > 12  # mostly different answers
    failures: list[str] = []
    start = threading.Barrier(THREADS)

    def visitor(seed: int) -> None:
        rnd, own_client = random.Random(seed), api.app.test_client()
        start.wait()
        try:
            for _ in range(REQUESTS):
                event_id, status = rnd.choice(list(expected))
                response = own_client.get(f"/events/{event_id}/seats{_query(status)}")
                body = response.get_json()
                if response.status_code != 200 or body != {"event_id": event_id, "seats": expected[event_id, status]}:
                    failures.append(f"event {event_id} status {status}: {response.status_code} {body}")
        except Exception as error:  # any error at all is a failure here
            failures.append(repr(error))

    threads = [threading.Thread(target=visitor, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
