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
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # bench/run.py: its server, database and seeding helpers

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


def feeds(args: argparse.Namespace) -> None:
    server = bench.Server([])
    try:
        event_id = bench.seed("Feeds", "A", 10)[0]
        lock_event = bench.seed("Locks", "A-T", 100)[0]
        token = bench.mint_tokens(1)[0]
        low, high = bench.seat_range(server.url, lock_event)
        seats = list(range(low, high + 1))
        cursor = json.load(urllib.request.urlopen(f"{server.url}/events/{event_id}/changes"))["cursor"]
        bench.log(bench.configuration(argparse.Namespace(worker_class=None, workers=None, threads=None)))
        report("idle", sample(server.url, token, seats, args.samples))
        held = open_feeds(server.port, event_id, cursor, args.feeds)
        time.sleep(2)  # let every request reach a worker
        report(f"{args.feeds} held feeds", sample(server.url, token, seats, args.samples))
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


def nginx_in_front(backend_port: int) -> tuple[subprocess.Popen, int, str]:
    """nginx with docs/deploy/nginx.conf on a free port, proxying to `backend_port`."""
    prefix = tempfile.mkdtemp(prefix="bench-nginx-")
    port = bench.free_port()
    config = (ROOT / "docs" / "deploy" / "nginx.conf").read_text()
    config = config.replace("127.0.0.1:8000", f"127.0.0.1:{backend_port}").replace("listen 80", f"listen {port}")
    (Path(prefix) / "nginx.conf").write_text(config)
    process = subprocess.Popen(
        [shutil.which("nginx") or "/usr/sbin/nginx", "-p", prefix, "-c", "nginx.conf", "-e", "stderr"],
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, port, prefix


def slow(args: argparse.Namespace) -> None:
    server = bench.Server([])
    proxy = None
    try:
        lock_event = bench.seed("Locks", "A-T", 100)[0]
        token = bench.mint_tokens(1)[0]
        low, high = bench.seat_range(server.url, lock_event)
        seats = list(range(low, high + 1))
        bench.log(bench.configuration(argparse.Namespace(worker_class=None, workers=None, threads=None)))
        report("gunicorn alone, idle", sample(server.url, token, seats, args.samples))
        stop = threading.Event()
        attack = slow_sockets(server.port, args.sockets, stop)
        time.sleep(3)
        report(f"gunicorn alone, {args.sockets} slow sockets", sample(server.url, token, seats, args.samples))
        stop.set()
        attack.join()
        if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
            bench.log("  nginx is not installed (apt-get install nginx-light): no figures behind it")
            return
        proxy, port, prefix = nginx_in_front(server.port)
        base = f"http://127.0.0.1:{port}"
        report("behind nginx, idle", sample(base, token, seats, args.samples))
        stop = threading.Event()
        attack = slow_sockets(port, args.sockets, stop)
        time.sleep(3)
        report(f"behind nginx, {args.sockets} slow sockets", sample(base, token, seats, args.samples))
        stop.set()
        attack.join()
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=10)
            shutil.rmtree(prefix, ignore_errors=True)
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=("feeds", "slow"))
    parser.add_argument("--feeds", type=int, default=1000, help="held feed requests (feeds)")
    parser.add_argument("--sockets", type=int, default=40, help="slow sockets (slow)")
    parser.add_argument("--samples", type=int, default=20, help="locks and /healthz requests measured per phase")
    args = parser.parse_args()
    bench.log(f"database {bench.DATABASE_URL}; {os.cpu_count()} cores")
    bench.fresh_database()
    (feeds if args.scenario == "feeds" else slow)(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
