#!/usr/bin/env python3
"""Only the seat-map scenarios of bench/run.py: (4) the full map of a 100,000-seat event at 4
connections, then the same with If-None-Match, and (7) the workers' memory after them.

    .venv/bin/python bench/seat_map.py [--duration 10] [--gzip] [--churn 1.0]

The same set-up as bench/run.py (gunicorn -c gunicorn.conf.py on PostgreSQL at BENCH_DATABASE_URL, a
fresh database, wrk on loopback), without the lock, purchase and ceiling-app scenarios, so a change
to the map can be measured in a minute. Beyond run.py it prints every worker's peak (VmHWM) and
current (VmRSS) memory, and can also measure: `--gzip`, the map asked for with Accept-Encoding:
gzip; `--churn SECONDS`, the map while one seat is locked and let go every SECONDS (so the version
moves and every worker rebuilds its map under load).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # bench/run.py: the server, wrk and seeding helpers


def worker_memory(server: run.Server) -> list[tuple[int, float, float]]:
    """(pid, VmHWM MB, VmRSS MB) of each worker."""
    found = []
    for pid in server.worker_pids():
        fields = {}
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                fields[key] = int(value.split()[0]) / 1024
        found.append((pid, fields["VmHWM"], fields["VmRSS"]))
    return found


def reset_peaks(server: run.Server) -> None:
    """Start each worker's VmHWM afresh (Linux: 5 to /proc/<pid>/clear_refs), so that the peak read
    after the maps is theirs, not that of what ran before (a password hash takes 32 MB at once)."""
    for pid in server.worker_pids():
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def show_memory(server: run.Server, when: str) -> float:
    memory = worker_memory(server)
    run.log(f"  workers {when}: " + ", ".join(f"{pid} peak {hwm:.0f} MB now {rss:.0f} MB" for pid, hwm, rss in memory))
    return max(hwm for _, hwm, _ in memory)


class Churn:
    """Locks and lets go of one seat every `interval` seconds while a scenario runs."""

    def __init__(self, base: str, token: str, seat_id: int, interval: float) -> None:
        self.base, self.token, self.seat_id, self.interval = base, token, seat_id, interval
        self.changes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Churn:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        if self.changes % 2:
            self._send("DELETE")  # leave the seat as it was found

    def _send(self, method: str) -> None:
        request = urllib.request.Request(
            f"{self.base}/seats/{self.seat_id}/lock", method=method, headers={"Authorization": f"Bearer {self.token}"}
        )
        urllib.request.urlopen(request).read()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._send("DELETE" if self.changes % 2 else "POST")
            self.changes += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk scenario")
    parser.add_argument("--gzip", action="store_true", help="also measure the map with Accept-Encoding: gzip")
    parser.add_argument("--churn", type=float, help="also measure the map while a seat changes every CHURN s")
    parser.add_argument("--only-churn", action="store_true", help="with --churn: skip the unchanged map's runs")
    parser.add_argument(
        "--register",
        type=int,
        default=0,
        help="first register and log in this many users, 8 at a time, as bench/run.py does before the maps",
    )
    parser.add_argument(
        "--reset-peaks", action="store_true", help="reset the workers' peak memory (VmHWM) just before the maps"
    )
    parser.add_argument("--event", type=int, help="measure this event of the database as it is (no fresh database)")
    args = parser.parse_args()

    run.log(run.configuration(argparse.Namespace(worker_class=None, workers=None, threads=None)))
    run.log(f"database {run.DATABASE_URL}")
    if args.event is None:
        run.fresh_database()
        large, _ = run.seed("Stadium (100,000 seats)", "A-CV", 1000)
    else:
        large = args.event
    server = run.Server([])
    results: dict[str, dict] = {}

    def measure(name: str, **env: str) -> None:
        results[name] = run.wrk(
            "seatmap.lua", server.url, connections=4, threads=2, duration=args.duration, EVENT_ID=str(large), **env
        )
        run.show(name, results[name])

    try:
        show_memory(server, "at start")
        if args.register:
            run.register_users(server.url, args.register, f"user{os.getpid()}-")
            show_memory(server, f"after {args.register} registrations and logins")
        if args.reset_peaks:
            reset_peaks(server)
        if not args.only_churn:
            with urllib.request.urlopen(f"{server.url}/events/{large}/seats") as answer:
                etag = answer.headers.get("ETag") or ""
                map_bytes = len(answer.read())
            run.log(f"  seat map: {map_bytes / 1e6:.1f} MB, ETag {etag or 'none'}")
            measure("(4) seat map, 100,000 seats")
            measure("(4) seat map, If-None-Match", ETAG=etag)
            rss = show_memory(server, "after the maps")
            run.log(f"(7) peak RSS of one worker after the seat maps: {rss:.0f} MB")
        if args.gzip:
            measure("seat map, gzip", ACCEPT_ENCODING="gzip")
            show_memory(server, "after gzip")
        if args.churn:
            token = run.register_users(server.url, 1, f"churn{os.getpid()}-")[0]
            low, high = run.seat_range(server.url, large)
            with Churn(server.url, token, low + os.getpid() % (high - low), args.churn) as churn:
                measure(f"seat map, a change every {args.churn:g} s")
            run.log(f"  {churn.changes} changes during the run")
            show_memory(server, "after churn")
    finally:
        server.stop()
    for name, result in results.items():
        run.log(json.dumps({"scenario": name, **result}))
    return 1 if any(run.fives(result["counts"]) for result in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
