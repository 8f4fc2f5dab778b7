#!/usr/bin/env python3
"""Best available under load: p50/p99 of `POST /events/<id>/best-available` with 16 buyers at once, on
events of 1,000, 20,000 (docs/layouts/arena.json) and 100,000 seats, half of them sold at random.

    make bench-best                      # or: .venv/bin/python bench/best_available.py [--requests 25]

gunicorn runs as production does (`gunicorn -c gunicorn.conf.py`, bench/run.py's Server) on PostgreSQL
(BENCH_DATABASE_URL). Each event is made as an organizer makes one (`flask import-venue`, then
`POST /organizations/<id>/events` and publish); half its seats are then marked sold at random
directly in the database. Each of the 16 buyers asks `--requests` times for 2 to 4 seats together and
gives them back right after (the release is not timed), so the event stays half sold throughout:
with `--release database` (the default) by one UPDATE from this process, so that the server serves
the asks alone, as in the scenario measured; with `--release api` by `DELETE /seats/<id>/lock` for
each seat, so that the server also serves 2 to 4 releases per ask. The buyers run in this process,
on the same machine as the server: the figures include their share of the CPU. With `--release
database`, the ceiling app (bench/ceiling_app.py, issue 17's yardstick) then serves the same 16 buyers
locking random free seats of the 100,000-seat event, one each, given back the same way, so that the
asks/s can be read as a ratio to its locks/s measured in the same run. Prints each event's p50, p99,
requests/s and answers, and the ratio; exits 1 on any 5xx.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from create_event import _post, big_layout
from run import DATABASE_URL, ROOT, Server, flask, fresh_database, log, mint_tokens, register_users

BUYERS = 16


def small_layout() -> dict:
    """1,000 seats: one section of 20 rows of 50, the front half priced higher."""
    rows = [
        {
            "name": chr(ord("A") + row),
            "seats": [{"number": n, "category": "Front" if row < 10 else "Back"} for n in range(1, 51)],
        }
        for row in range(20)
    ]
    return {"sections": [{"name": "", "rows": rows}]}


def arena_layout() -> dict:
    return json.loads((ROOT / "docs" / "layouts" / "arena.json").read_text())


def categories_of(layout: dict) -> list[dict]:
    names = sorted(
        {
            seat["category"]
            for section in layout["sections"]
            for row in section["rows"]
            if not isinstance(row["seats"], int)
            for seat in row["seats"]
            if seat.get("category")
        }
    )
    return [{"name": name, "price": "25.00"} for name in names]


def make_event(base: str, token: str, organization_id: int, name: str, layout: dict) -> tuple[int, int]:
    """Import the layout as a venue, make an event of it and publish it; return (event id, seats)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(layout, handle)
    output = flask("import-venue", "--organization", str(organization_id), "--name", name, "--layout", handle.name)
    Path(handle.name).unlink()
    venue_id = int(output.strip().splitlines()[-1])
    body = {
        "name": name,
        "venue_id": venue_id,
        "starts_at": "2099-06-01T20:00:00Z",
        "categories": categories_of(layout),
    }
    event = _post(f"{base}/organizations/{organization_id}/events", body, token)["event"]
    _post(f"{base}/events/{event['id']}/publish", {}, token)
    return event["id"], event["seat_count"]


def sell_half(event_id: int) -> int:
    """Mark half the event's free seats sold, at random (set-up only: straight to the database)."""
    import psycopg

    with psycopg.connect(database_url(), autocommit=True) as connection:
        connection.execute("SELECT setseed(0.16)")
        sold = connection.execute(
            "UPDATE seats SET status = 'booked' WHERE event_id = %s AND status = 'available' AND random() < 0.5",
            (event_id,),
        ).rowcount
        connection.execute("ANALYZE seats")
    return sold


RELEASE = (
    "UPDATE seats SET status = 'available', holder_id = NULL, locked_until = NULL, order_id = NULL,"
    " held_from = NULL WHERE id = ANY(%s)"
)


def database_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(DATABASE_URL).set(drivername="postgresql").render_as_string(hide_password=False)


def measure(base: str, tokens: list[str], requests_each: int, ask, release: str = "database") -> dict:
    """Every buyer sends `requests_each` requests and gives back the seats each one held; timings of the
    requests. `ask(rng)` gives a request's path and body (None: no body); its answer names the seats
    held in `seats` (best available) or `seat` (a lock)."""
    import psycopg

    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    counts: dict[int, int] = {}
    record = threading.Lock()
    start = threading.Barrier(len(tokens))

    def buyer(index: int) -> None:
        rng = random.Random(index)
        headers = {"Authorization": f"Bearer {tokens[index]}", "Content-Type": "application/json"}
        connection = HTTPConnection(host, int(port), timeout=60)
        database = psycopg.connect(database_url(), autocommit=True) if release == "database" else None
        start.wait()
        for _ in range(requests_each):
            path, body = ask(rng)
            began = time.perf_counter()
            connection.request("POST", path, body=body, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
            elapsed = time.perf_counter() - began
            with record:
                latencies.append(elapsed)
                counts[answer.status] = counts.get(answer.status, 0) + 1
            if answer.status != 200:
                continue
            answered = json.loads(payload)
            held = [seat["id"] for seat in answered.get("seats") or [answered["seat"]]]
            if database is not None:
                database.execute(RELEASE, (held,))
            else:
                for seat_id in held:
                    connection.request("DELETE", f"/seats/{seat_id}/lock", headers=headers)
                    connection.getresponse().read()
        connection.close()
        if database is not None:
            database.close()

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        list(pool.map(buyer, range(len(tokens))))
    wall = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        "rps": len(latencies) / wall,  # requests per second, the releases in between included in the time
        "counts": counts,
    }


def best_available_asks(event_id: int):
    def ask(rng: random.Random) -> tuple[str, str]:
        return f"/events/{event_id}/best-available", json.dumps({"count": rng.randint(2, 4)})

    return ask


def ceiling_locks(event_id: int):
    """Locks of random free seats of the event, for the ceiling app (one seat each, no body)."""
    import psycopg

    with psycopg.connect(database_url(), autocommit=True) as connection:
        query = "SELECT id FROM seats WHERE event_id = %s AND status = 'available'"
        free = [row[0] for row in connection.execute(query, (event_id,))]

    def ask(rng: random.Random) -> tuple[str, None]:
        return f"/seats/{rng.choice(free)}/lock", None

    return ask


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=25, help="asks per buyer per event")
    parser.add_argument(
        "--release",
        choices=("database", "api"),
        default="database",
        help="give the seats back by one UPDATE from here (default), or by DELETE /seats/<id>/lock each",
    )
    args = parser.parse_args()
    log(f"database {DATABASE_URL}")
    fresh_database()
    server = Server([])
    failed = False
    try:
        organizer = register_users(server.url, 1, "organizer")[0]
        organization_id = _post(f"{server.url}/organizations", {"name": "Bench"}, organizer)["organization"]["id"]
        tokens = mint_tokens(BUYERS)
        results = []
        for name, layout in (
            ("1,000 seats", small_layout()),
            ("20,000 seats (arena)", arena_layout()),
            ("100,000 seats", big_layout()),
        ):
            event_id, seat_count = make_event(server.url, organizer, organization_id, name, layout)
            sold = sell_half(event_id)
            log(f"{name}: event {event_id}, {seat_count} seats, {sold} sold at random")
            result = measure(server.url, tokens, args.requests, best_available_asks(event_id), args.release)
            log(
                f"  {result['requests']} asks by {BUYERS} buyers at once: p50 {result['p50_ms']:.1f} ms, "
                f"p99 {result['p99_ms']:.1f} ms, {result['rps']:.0f} asks/s, answers {result['counts']}"
            )
            failed |= any(status >= 500 for status in result["counts"])
            results.append((name, result))
    finally:
        server.stop()
    ceiling = None
    if args.release == "database":
        # The ceiling app (bench/ceiling_app.py) under the same configuration and the same 16 buyers:
        # one seat each, random free seats of the 100,000-seat event, given back the same way.
        ceiling_server = Server([], app="ceiling_app:app")
        try:
            ceiling = measure(ceiling_server.url, tokens, args.requests, ceiling_locks(event_id), args.release)
        finally:
            ceiling_server.stop()
        log(
            f"ceiling app, locks of the 100,000-seat event by the same buyers: p50 {ceiling['p50_ms']:.1f} ms, "
            f"p99 {ceiling['p99_ms']:.1f} ms, {ceiling['rps']:.0f} locks/s, answers {ceiling['counts']}"
        )
        failed |= any(status >= 500 for status in ceiling["counts"])
    log(f"\nbest available, 16 buyers at once, half the seats sold, seats given back by {args.release}")
    log(f"{'event':<24}{'p50 ms':>10}{'p99 ms':>10}{'asks/s':>10}" + (f"{'x ceiling':>12}" if ceiling else ""))
    for name, result in results:
        ratio = f"{result['rps'] / ceiling['rps']:>12.2f}" if ceiling else ""
        log(f"{name:<24}{result['p50_ms']:>10.1f}{result['p99_ms']:>10.1f}{result['rps']:>10.0f}{ratio}")
    if ceiling:
        log(f"{'ceiling app (locks)':<24}{ceiling['p50_ms']:>10.1f}{ceiling['p99_ms']:>10.1f}{ceiling['rps']:>10.0f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
