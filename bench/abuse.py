#!/usr/bin/env python3
"""What two cheap attacks do to other users: held change-feed requests, and slow clients.

    .venv/bin/python bench/abuse.py feeds [--feeds 1000]       # held GET /events/<id>/changes?wait=25
    .venv/bin/python bench/abuse.py slow [--sockets 40]        # slowloris, gunicorn alone and behind nginx

gunicorn runs as production does (`gunicorn -c gunicorn.conf.py`, PostgreSQL at BENCH_DATABASE_URL).
Each scenario first measures another user's lock (`POST /seats/<id>/lock`) and `/healthz` on the
idle server, then again while the attack is on, and prints medians, the worst, and how many timed out.

- feeds: N anonymous long polls of an event nobody changes, each on its own socket (from N/20
  loopback addresses, 127.0.0.2 up, so that the per-address cap is not what stops them).
- slow: N sockets that each send one byte of a request header every 2 s; first straight at
  gunicorn, then through nginx with docs/deploy/nginx.conf (needs Debian's nginx-light, and root).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # bench/run.py: its server, database and seeding helpers (and ROOT on sys.path)

from tests.nginx_server import Nginx, nginx_binary

ROOT = bench.ROOT
TIMEOUT = 10.0


def timed(url: str, *, method: str = "GET", token: str | None = None) -> float | None:
    """Seconds one request took, or None when it failed or took longer than TIMEOUT."""
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            answer.read()
    except OSError:
        return None
    return time.perf_counter() - started


def sample(base: str, token: str, seats: list[int], count: int) -> dict:
    """`count` locks of fresh seats by one user, one at a time, and as many /healthz."""
    locks = [timed(f"{base}/seats/{seats.pop()}/lock", method="POST", token=token) for _ in range(count)]
    health = [timed(f"{base}/healthz") for _ in range(count)]

    def figures(values: list[float | None]) -> str:
        done = sorted(value * 1000 for value in values if value is not None)
        failed = len(values) - len(done)
        if not done:
            return f"all {failed} timed out (> {TIMEOUT:.0f} s)"
        return f"median {statistics.median(done):.1f} ms, worst {done[-1]:.0f} ms, {failed} timed out"

    return {"lock": figures(locks), "healthz": figures(health)}


def report(label: str, figures: dict) -> None:
    bench.log(f"  {label:34} lock: {figures['lock']}")
    bench.log(f"  {'':34} /healthz: {figures['healthz']}")


def open_feeds(port: int, event_id: int, cursor: int, count: int) -> list[socket.socket]:
    """`count` held long polls, 20 per loopback address; the sockets stay open until closed."""
    sockets = []
    request = (f"GET /events/{event_id}/changes?since={cursor}&wait=25 HTTP/1.1\r\nHost: bench\r\n\r\n").encode()
    for index in range(count):
        client = socket.socket()
        client.bind((f"127.0.0.{2 + index // 20}", 0))
        client.connect(("127.0.0.1", port))
        client.sendall(request)
        sockets.append(client)
    return sockets


def waiting_requests(server: bench.Server) -> float:
    """ticketing_feed_requests_waiting from /metrics (-1 when /metrics does not answer in time)."""
    try:
        text = urllib.request.urlopen(f"{server.url}/metrics", timeout=TIMEOUT).read().decode()
    except OSError:
        return -1.0
    found = re.search(r"^ticketing_feed_requests_waiting (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def wait_for_waiting(server: bench.Server, count: int, timeout: float) -> float:
    """Wait until `count` feed requests wait, or their number stays put for 5 s; return how many do."""
    deadline = time.monotonic() + timeout
    waiting, last_change = 0.0, time.monotonic()
    while waiting < count and time.monotonic() < deadline and time.monotonic() - last_change < 5:
        time.sleep(0.2)
        now_waiting = waiting_requests(server)
        if now_waiting != waiting:
            waiting, last_change = now_waiting, time.monotonic()
    return waiting


def cpu_seconds(server: bench.Server) -> float:
    """CPU time the server's workers have used so far (user + system)."""
    total = 0
    for pid in server.worker_pids():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def feeds(args: argparse.Namespace) -> None:
    server = bench.Server(bench.gunicorn_options(args))
    try:
        event_id = bench.seed("Feeds", "A", 10)[0]
        event_id_seat = bench.seat_range(server.url, event_id)[0]
        lock_event = bench.seed("Locks", "A-T", 100)[0]
        token, other = bench.mint_tokens(2)
        low, high = bench.seat_range(server.url, lock_event)
        seats = list(range(low, high + 1))
        cursor = json.load(urllib.request.urlopen(f"{server.url}/events/{event_id}/changes"))["cursor"]
        bench.log(bench.configuration(args))
        report("idle", sample(server.url, token, seats, args.samples))
        started = time.perf_counter()
        held = open_feeds(server.port, event_id, cursor, args.feeds)
        waiting = wait_for_waiting(server, args.feeds, timeout=120)
        bench.log(f"  {waiting:.0f} of {args.feeds} feed requests waiting after {time.perf_counter() - started:.1f} s")
        before = cpu_seconds(server)
        time.sleep(5)
        bench.log(f"  workers' CPU while they wait: {(cpu_seconds(server) - before) / 5:.3f} s per s")
        report(f"{args.feeds} held feeds", sample(server.url, token, seats, args.samples))
        # One change to the followed event: how long until every held request has its answer.
        started = time.perf_counter()
        request = urllib.request.Request(f"{server.url}/seats/{event_id_seat}/lock", method="POST", data=b"")
        request.add_header("Authorization", f"Bearer {other}")
        urllib.request.urlopen(request).read()
        answered = 0
        for client in held:
            client.settimeout(30)
            if client.recv(65536).startswith(b"HTTP/1.1 200"):
                answered += 1
        bench.log(
            f"  one change answers {answered} of {args.feeds} held feeds, the last "
            f"{time.perf_counter() - started:.2f} s after the lock was sent (CHANGES_POLL_MS 500)"
        )
        for client in held:
            client.close()
    finally:
        server.stop()


def slow_sockets(port: int, count: int, stop: threading.Event) -> threading.Thread:
    """`count` connections that each send a request header one byte every 2 s, until `stop`."""

    def attack() -> None:
        header = b"GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Padding: " + b"a" * 200
        clients = []
        for _ in range(count):
            client = socket.create_connection(("127.0.0.1", port))
            clients.append(client)
        position = 0
        while not stop.is_set() and position < len(header):
            for client in clients:
                with contextlib.suppress(OSError):  # nginx or gunicorn may have closed it
                    client.send(header[position : position + 1])
            position += 1
            stop.wait(2)
        for client in clients:
            client.close()

    thread = threading.Thread(target=attack, daemon=True)
    thread.start()
    return thread


def slow(args: argparse.Namespace) -> None:
    server = bench.Server(bench.gunicorn_options(args))
    proxy = None
    try:
        lock_event = bench.seed("Locks", "A-T", 100)[0]
        token = bench.mint_tokens(1)[0]
        low, high = bench.seat_range(server.url, lock_event)
        seats = list(range(low, high + 1))
        bench.log(bench.configuration(args))
        report("gunicorn alone, idle", sample(server.url, token, seats, args.samples))
        stop = threading.Event()
        attack = slow_sockets(server.port, args.sockets, stop)
        time.sleep(3)
        report(f"gunicorn alone, {args.sockets} slow sockets", sample(server.url, token, seats, args.samples))
        stop.set()
        attack.join()
        binary = nginx_binary()
        if binary is None:
            bench.log("  nginx is not installed (apt-get install nginx-light): no figures behind it")
            return
        proxy = Nginx(binary, server.port)
        port, base = proxy.port, proxy.url
        report("behind nginx, idle", sample(base, token, seats, args.samples))
        stop = threading.Event()
        attack = slow_sockets(port, args.sockets, stop)
        time.sleep(3)
        report(f"behind nginx, {args.sockets} slow sockets", sample(base, token, seats, args.samples))
        stop.set()
        attack.join()
    finally:
        if proxy is not None:
            proxy.stop()
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=("feeds", "slow"))
    parser.add_argument("--feeds", type=int, default=1000, help="held feed requests (feeds)")
    parser.add_argument("--sockets", type=int, default=40, help="slow sockets (slow)")
    parser.add_argument("--samples", type=int, default=20, help="locks and /healthz requests measured per phase")
    parser.add_argument(
        "--worker-class",
        choices=("gthread", "sync"),
        help="compare gunicorn's own worker (default: gunicorn.conf.py's)",
    )
    parser.add_argument("--workers", type=int, help="worker processes (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: gunicorn.conf.py's)")
    args = parser.parse_args()
    bench.log(f"database {bench.DATABASE_URL}; {os.cpu_count()} cores")
    bench.fresh_database()
    (feeds if args.scenario == "feeds" else slow)(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
