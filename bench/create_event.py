#!/usr/bin/env python3
"""How long a 100,000-seat venue takes to become an event, as an organizer does it: one
`POST /organizations/<id>/events` to gunicorn on PostgreSQL (the seats in one multi-row INSERT).

    .venv/bin/python bench/create_event.py [--runs 3]     # alone
    make bench                                            # scenario (8) of bench/run.py

The venue is imported with `flask import-venue` from a layout of 10 sections of 100 rows of 100 seats,
each seat listed with its category and position (the heaviest layout of that size). Prints each
request's wall time and the median; the target is under 3 s. Needs a PostgreSQL server
(BENCH_DATABASE_URL, as bench/run.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import DATABASE_URL, Server, flask, fresh_database, log, register_users

SECTIONS, ROWS, SEATS = 10, 100, 100
TARGET_SECONDS = 3.0


def _row_name(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def big_layout() -> dict:
    """100,000 seats: sections S1-S10 side by side, rows A-CV, seats 1-100 with category and x/y."""
    sections = []
    for section in range(SECTIONS):
        rows = []
        for row in range(ROWS):
            category = "Front" if row < 20 else "Middle" if row < 60 else "Back"
            seats = [
                {"number": n, "category": category, "x": float(section * (SEATS + 5) + n), "y": float(row)}
                for n in range(1, SEATS + 1)
            ]
            rows.append({"name": _row_name(row), "seats": seats})
        sections.append({"name": f"S{section + 1}", "rows": rows})
    return {"sections": sections}


def _post(url: str, body: dict, token: str) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        return json.load(answer)


def measure(server: Server, runs: int) -> list[float]:
    """Make the organization and venue, then `runs` events from it; return each request's seconds."""
    token = register_users(server.url, 1, "organizer")[0]
    organization_id = _post(f"{server.url}/organizations", {"name": "Bench"}, token)["organization"]["id"]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(big_layout(), handle)
    started = time.perf_counter()
    output = flask("import-venue", "--organization", str(organization_id), "--name", "Stadium", "--layout", handle.name)
    log(f"  venue of 100,000 listed seats imported in {time.perf_counter() - started:.2f} s (flask import-venue)")
    Path(handle.name).unlink()
    venue_id = int(output.strip().splitlines()[-1])
    body = {
        "name": "Final",
        "venue_id": venue_id,
        "starts_at": "2099-06-01T20:00:00Z",
        "categories": [
            {"name": "Front", "price": "95.00"},
            {"name": "Middle", "price": "60.00"},
            {"name": "Back", "price": "35.00"},
        ],
    }
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        event = _post(f"{server.url}/organizations/{organization_id}/events", body, token)["event"]
        timings.append(time.perf_counter() - started)
        if event["seat_count"] != SECTIONS * ROWS * SEATS:
            raise SystemExit(f"the event has {event['seat_count']} seats")
        log(f"  event {event['id']} with {event['seat_count']} seats created in {timings[-1]:.2f} s")
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="events to create from the venue")
    args = parser.parse_args()
    log(f"database {DATABASE_URL}")
    fresh_database()
    server = Server([])
    try:
        timings = measure(server, args.runs)
    finally:
        server.stop()
    median = statistics.median(timings)
    log(f"(8) a 100,000-seat venue becomes an event: median {median:.2f} s of {len(timings)} (target < 3 s)")
    return 0 if median < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
