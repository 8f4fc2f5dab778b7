#!/usr/bin/env python3
"""The service's benchmark: production set-up (gunicorn on PostgreSQL), load from wrk on loopback.

    make bench                      # or: .venv/bin/python bench/run.py [--duration 10]
    .venv/bin/python bench/run.py --worker-class sync --workers 8   # compare another set-up

gunicorn runs as production does, `gunicorn -c gunicorn.conf.py` (holding_worker.py, a gthread worker
that holds long polls without a thread; its workers and threads:
WEB_CONCURRENCY, GUNICORN_THREADS or their defaults); --worker-class, --workers and --threads
override them for a comparison. The first line printed says which configuration ran.

Scenarios: (0) the ceiling app (bench/ceiling_app.py: the least work a correct, durable,
authenticated lock can do in Flask on PostgreSQL) under the same gunicorn configuration and the same
load as (1) and (2), on events of its own; (1) lock random seats of a 1,000-seat event, 64
connections; (2) the same on a 100,000-seat event; (3) hot seat: 1,000 clients at one seat at once (the ceiling
app gets the same burst, the floor of this stack's latency for it);
(4) the full seat map of the 100,000-seat event, 4 connections, then with If-None-Match; (5) a
purchase mix (lock 2, order, pay); (6) seeding 100,000 seats; (7) peak RSS of one worker after (4);
(8) a 100,000-seat venue becoming an event (POST /organizations/<id>/events, bench/create_event.py);
(9) best available on the example arena half sold, 16 buyers asking for 2 to 4 seats at once
(bench/best_available.py's client), beside the ceiling app's locks by the same client; (10)
check-in, 16 doors scanning distinct tickets of a 20,000-ticket event (bench/checkins.py), beside
the ceiling app's locks at 16 connections.
Prints each scenario's requests/s, p50 and p99 latency and status counts, then the targets' table
(each lock and purchase figure as a ratio to the ceiling app's locks/s) and a summary table; exits 1
if any request got a 5xx. Needs wrk (Debian package `wrk`) and a PostgreSQL server
(BENCH_DATABASE_URL).
"""

from __future__ import annotations

import argparse
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
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import Settings, environment_with_dotenv  # noqa: E402

BENCH_DIR = ROOT / "bench"
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/ticketing_bench")
SECRET = "benchmark-secret-benchmark-secret-benchmark-secret"


def log(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_environment(**extra: str) -> dict:
    return {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": DATABASE_URL,
        "JWT_SECRET_KEY": SECRET,
        "ALLOW_TEST_PAYMENTS": "1",  # production settings, but paid with the test gateway's tok_visa
        # Holds outlast the hot-seat burst (one winner); the per-user limit is out of the way.
        "HOLD_TTL_SECONDS": "30",
        "MAX_SEATS_PER_USER": "100000",
        # wrk's scripts send each user's requests from an address of its own (common.lua), through
        # X-Forwarded-For as a proxy in front would: per-address hold counts are one buyer's, as in
        # production, not every hold of the run from 127.0.0.1.
        "PROXY_COUNT": "1",
        "LOGIN_FAILURE_LIMIT": "1000/minute",
        "REGISTER_LIMIT": "100000/hour",
        "LOG_LEVEL": "WARNING",
        # No login limit is under test: per-process counters are fine here (production refuses them).
        "ALLOW_PER_PROCESS_LIMITS": "1",
        **extra,
    }


def flask(*args: str) -> str:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=app_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def fresh_database() -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(DATABASE_URL)
    admin = url.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{url.database}"')
    flask("db", "upgrade")


def seed(name: str, rows: str, per_row: int, price: str = "0") -> tuple[int, float]:
    started = time.perf_counter()
    output = flask("seed-seats", "--event", name, "--rows", rows, "--per-row", str(per_row), "--price", price)
    return int(output.strip().splitlines()[-1]), time.perf_counter() - started


def seat_range(base: str, event_id: int) -> tuple[int, int]:
    seats = json.load(urllib.request.urlopen(f"{base}/events/{event_id}/seats"))["seats"]
    return seats[0]["id"], seats[-1]["id"]


def register_users(base: str, count: int, prefix: str) -> list[str]:
    """Register and log in `count` users over HTTP; return their access tokens."""

    def one(index: int) -> str:
        body = json.dumps({"email": f"{prefix}{index}@bench.example", "password": "benchmark password"}).encode()
        for path in ("/auth/register", "/auth/login"):
            request = urllib.request.Request(base + path, data=body, headers={"Content-Type": "application/json"})
            answer = json.load(urllib.request.urlopen(request))
        return answer["access_token"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def gunicorn_options(args: argparse.Namespace) -> list[str]:
    """Command-line options that override gunicorn.conf.py (none: the production configuration)."""
    options = []
    if args.worker_class:
        options += ["--worker-class", args.worker_class]
    if args.workers is not None:
        options += ["--workers", str(args.workers)]
    if args.threads is not None or args.worker_class == "sync":
        options += ["--threads", str(args.threads or 1)]  # with more than 1, gunicorn runs gthread
    return options


def configuration(args: argparse.Namespace) -> str:
    """What gunicorn will run, read the way gunicorn.conf.py reads it, with the overrides."""
    settings = Settings.from_environment(environment_with_dotenv(ROOT / ".env", app_environment()))
    worker_class = args.worker_class or "holding gthread"  # gunicorn.conf.py's holding_worker.py
    workers = settings.web_concurrency if args.workers is None else args.workers
    threads = args.threads or (1 if worker_class == "sync" else settings.gunicorn_threads)
    options = gunicorn_options(args)
    source = "gunicorn -c gunicorn.conf.py " + (" ".join(options) if options else "(the production configuration)")
    return f"{source}: {workers} {worker_class} workers x {threads} threads"


class Server:
    def __init__(self, options: list[str], app: str | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_dir = tempfile.mkdtemp(prefix="bench-metrics-")
        # gunicorn.conf.py sets the rest as in production: bind from GUNICORN_BIND, log level from
        # LOG_LEVEL, no control socket, the metrics directory emptied at start.
        command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", *options]
        if app is not None:  # another WSGI app of bench/ (the ceiling app) under the same configuration
            command += ["--pythonpath", str(BENCH_DIR), app]
        environment = app_environment(PROMETHEUS_MULTIPROC_DIR=self.metrics_dir, GUNICORN_BIND=f"127.0.0.1:{self.port}")
        environment.pop("GUNICORN_CMD_ARGS", None)
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(self.metrics_dir) / "gunicorn.log", "wb"),  # noqa: SIM115
        )
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{self.url}/readyz", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("gunicorn did not start: see " + str(Path(self.metrics_dir) / "gunicorn.log"))

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def peak_rss_mb(self) -> float:
        peaks = []
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks)

    def reset_peak_rss(self) -> None:
        """Start the workers' peak RSS (VmHWM) afresh: the registrations' scrypt hashes (32 MB each, 8
        at once per worker) would otherwise be the peak that (7) reports, not the seat maps."""
        for pid in self.worker_pids():
            Path(f"/proc/{pid}/clear_refs").write_text("5")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        shutil.rmtree(self.metrics_dir, ignore_errors=True)


def wrk(script: str, url: str, *, connections: int, threads: int, duration: float, **env: str) -> dict:
    """Run wrk with a script of bench/; return its JSON summary plus requests/s."""
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH_DIR / script),
        url,
    ]
    result = subprocess.run(
        command, env={**os.environ, "BENCH_DIR": str(BENCH_DIR), **env}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or "BENCH_JSON" not in result.stdout:
        raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH_JSON "))
    summary = json.loads(line.removeprefix("BENCH_JSON "))
    summary["rps"] = summary["requests"] / (summary["duration_us"] / 1e6)
    return summary


def hot_seat(base: str, seat_id: int, tokens: list[str]) -> dict:
    """Every token tries to lock one seat at the same instant, each on its own connection."""
    barrier = threading.Barrier(len(tokens))
    host, port = base.removeprefix("http://").split(":")

    def one(token: str) -> tuple[int, float]:
        connection = HTTPConnection(host, int(port), timeout=30)
        connection.connect()
        barrier.wait()
        started = time.perf_counter()
        connection.request("POST", f"/seats/{seat_id}/lock", headers={"Authorization": f"Bearer {token}"})
        status = connection.getresponse().status
        elapsed = time.perf_counter() - started
        connection.close()
        return status, elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        results = list(pool.map(one, tokens))
    wall = time.perf_counter() - started
    latencies = sorted(elapsed for _, elapsed in results)
    counts: dict[str, int] = {}
    for status, _ in results:
        counts[str(status)] = counts.get(str(status), 0) + 1
    return {
        "requests": len(results),
        "rps": len(results) / wall,
        "counts": counts,
        "p50_us": statistics.median(latencies) * 1e6,
        "p99_us": latencies[int(len(latencies) * 0.99) - 1] * 1e6,
    }


def mint_tokens(count: int) -> list[str]:
    """Users made directly in the database with tokens signed by the server's key (for the hot seat)."""
    for name in ("DATABASE_URL", "JWT_SECRET_KEY", "APP_ENV", "ALLOW_TEST_PAYMENTS", "ALLOW_PER_PROCESS_LIMITS"):
        os.environ[name] = app_environment()[name]
    from flask_jwt_extended import create_access_token

    from ticketing import create_app
    from ticketing.extensions import db
    from ticketing.models import User

    app = create_app()
    with app.app_context():
        users = [User(email=f"hot{index}@bench.example", password_hash="-") for index in range(count)]
        db.session.add_all(users)
        db.session.commit()
        tokens = [create_access_token(identity=user) for user in users]
        db.engine.dispose()
    return tokens


class ActivitySampler:
    """Samples pg_stat_activity every 50 ms while a scenario runs: how many of the service's backends
    are active, how many of those wait on a lock, and the statements they wait in (what queues)."""

    def __init__(self) -> None:
        self.samples: list[tuple[int, int]] = []
        self.waiting: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ActivitySampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(DATABASE_URL).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as connection:
            while not self._stop.wait(0.05):
                rows = connection.execute(
                    "SELECT wait_event_type, left(regexp_replace(query, '\\s+', ' ', 'g'), 60) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND backend_type = 'client backend'"
                    " AND state = 'active' AND pid <> pg_backend_pid()"
                ).fetchall()
                waiting = [query for wait_type, query in rows if wait_type == "Lock"]
                self.samples.append((len(rows), len(waiting)))
                for query in waiting:
                    self.waiting[query] = self.waiting.get(query, 0) + 1

    def summary(self) -> str:
        if not self.samples:
            return "no samples"
        active = statistics.mean(total for total, _ in self.samples)
        waiting = statistics.mean(count for _, count in self.samples)
        top = sorted(self.waiting.items(), key=lambda item: -item[1])[:3]
        where = "; ".join(f"{count / len(self.samples):.1f} in {query!r}" for query, count in top) or "none"
        return f"active backends {active:.1f} on average, {waiting:.1f} waiting on a lock (by statement: {where})"


def fives(counts: dict) -> int:
    return sum(value for key, value in counts.items() if str(key).split(":")[-1].startswith("5"))


def show(name: str, result: dict) -> None:
    log(
        f"  {name}: {result['rps']:.0f} requests/s, p50 {result['p50_us'] / 1000:.1f} ms, "
        f"p99 {result['p99_us'] / 1000:.1f} ms, statuses {json.dumps(result['counts'], sort_keys=True)}"
    )


def lock_scenarios(
    server,
    tokens_file: Path,
    small: int,
    large: int,
    duration: float,
    results: dict,
    prefix: str = "",
    catalogue_url: str | None = None,
) -> int:
    """(1) and (2): locks on random seats, 64 connections, with pg_stat_activity sampled meanwhile.
    The events' seat ids are read from `catalogue_url` (the service's; by default `server`'s)."""
    for key, event in ((f"{prefix}(1) lock, 1,000 seats", small), (f"{prefix}(2) lock, 100,000 seats", large)):
        low, high = seat_range(catalogue_url or server.url, event)
        with ActivitySampler() as activity:
            results[key] = wrk(
                "lock.lua",
                server.url,
                connections=64,
                threads=2,
                duration=duration,
                TOKENS_FILE=str(tokens_file),
                SEAT_MIN=str(low),
                SEAT_MAX=str(high),
            )
        show(key, results[key])
        log(f"    pg_stat_activity: {activity.summary()}")
    return 1 if any(fives(result["counts"]) for result in results.values()) else 0


def print_ratios(results: dict, rss: float | None = None) -> None:
    """Issue 17's table: each scenario beside its target, as a ratio to the ceiling app where the
    target is one (so the figures hold on any machine)."""
    ceiling_small = results["ceiling (1) lock, 1,000 seats"]["rps"]
    ceiling_large = results["ceiling (2) lock, 100,000 seats"]["rps"]
    rows = []

    def ratio(name: str, value: float, base: float, target: float, unit: str = "/s") -> None:
        rows.append((name, f"{value:.0f}{unit}", f"{value / base:.2f}x", f">= {target}x", value / base >= target))

    def absolute(name: str, shown: str, ok: bool, target: str) -> None:
        rows.append((name, shown, "", target, ok))

    if "(1) lock, 1,000 seats" in results:
        ratio("lock, 1,000 seats (64 conns)", results["(1) lock, 1,000 seats"]["rps"], ceiling_small, 0.8)
        ratio("lock, 100,000 seats (64 conns)", results["(2) lock, 100,000 seats"]["rps"], ceiling_large, 0.8)
    hot = results.get("(3) hot seat, 1,000 clients")
    if hot:
        winners = hot["counts"].get("200", 0)
        p99 = hot["p99_us"] / 1000
        absolute(
            "hot seat, 1,000 clients", f"{winners} winner, p99 {p99:.0f} ms", winners == 1 and p99 < 250, "1, < 250 ms"
        )
        floor = results.get("ceiling (3) hot seat, 1,000 clients")
        if floor:
            floor_p99 = floor["p99_us"] / 1000
            shown = f"p99 {floor_p99:.0f} ms"
            rows.append(("  the ceiling app's own hot seat", shown, f"{p99 / floor_p99:.2f}x", "", True))
    purchase = results.get("(5) purchase mix")
    if purchase:
        ratio("purchases (lock 2, order, pay)", purchase["purchases_per_s"], ceiling_large, 0.3)
    box_office = (
        ("(9) best available, arena half sold, 16 buyers", "ceiling (9) lock, best available's 16 buyers"),
        ("(10) check-in, 20,000 tickets, 16 doors", "ceiling (10) lock, 16 connections"),
    )
    for (name, yardstick), label in zip(box_office, ("best available (16 buyers)", "check-in (16 doors)"), strict=True):
        if name in results and yardstick in results:
            ratio(label, results[name]["rps"], results[yardstick]["rps"], 0.5)
            p99 = results[name]["p99_us"] / 1000
            absolute(f"  {label}, p99", f"{p99:.0f} ms", p99 < 100, "< 100 ms")
    seat_map = results.get("(4) seat map, 100,000 seats")
    if seat_map:
        p99 = seat_map["p99_us"] / 1000
        absolute("seat map 100,000 seats, p99", f"{p99:.0f} ms", p99 < 500, "< 500 ms")
    not_modified = results.get("(4) seat map, If-None-Match")
    if not_modified:
        p99 = not_modified["p99_us"] / 1000
        absolute("seat map 304, p99", f"{p99:.1f} ms", p99 < 20, "< 20 ms")
    if rss is not None:
        absolute("worker RSS after maps", f"{rss:.0f} MB", rss < 150, "< 150 MB")
    log(f"\nAgainst the ceiling app (locks/s: {ceiling_small:.0f} on 1,000 seats, {ceiling_large:.0f} on 100,000)")
    log(f"{'scenario':34} {'service':>22} {'ratio':>7} {'target':>12}  met")
    for name, shown, ratio_text, target, ok in rows:
        log(f"{name:34} {shown:>22} {ratio_text:>7} {target:>12}  {('yes' if ok else 'NO') if target else ''}")


def arena_half_sold(base: str, token: str) -> int:
    """The example arena (docs/layouts/arena.json, 20,000 seats) made as an organizer makes an event,
    half of it sold at random (bench/best_available.py): best available's event."""
    import best_available
    import create_event

    organization = create_event._post(f"{base}/organizations", {"name": "Bench box office"}, token)
    layout = best_available.arena_layout()
    event_id, _ = best_available.make_event(base, token, organization["organization"]["id"], "Arena", layout)
    best_available.sell_half(event_id)
    return event_id


def as_summary(result: dict) -> dict:
    """bench/best_available.py's figures in the shape of wrk's summary here."""
    return {
        "requests": result["requests"],
        "rps": result["rps"],
        "p50_us": result["p50_ms"] * 1000,
        "p99_us": result["p99_ms"] * 1000,
        "counts": {str(status): count for status, count in result["counts"].items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk scenario")
    parser.add_argument(
        "--worker-class",
        choices=("gthread", "sync"),
        help="gunicorn worker class (default: gthread, as in gunicorn.conf.py)",
    )
    parser.add_argument("--workers", type=int, help="worker processes (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: gunicorn.conf.py's; sync: 1)")
    parser.add_argument("--only-locks", action="store_true", help="run only the lock scenarios (1) and (2)")
    args = parser.parse_args()
    if args.worker_class == "sync" and (args.threads or 1) > 1:
        parser.error("sync workers have one thread each (with more, gunicorn runs gthread)")
    if shutil.which("wrk") is None:
        log("wrk is not installed: apt-get install wrk")
        return 2

    log(configuration(args))
    log(f"database {DATABASE_URL}; {os.cpu_count()} cores")
    fresh_database()
    small, _ = seed("Club (1,000 seats)", "A-J", 100)
    large, seed_seconds = seed("Stadium (100,000 seats)", "A-CV", 1000)
    buy, _ = seed("Arena (purchases)", "A-CV", 1000, price="20")
    hot_event, _ = seed("Hot seat", "A", 1)
    ceiling_small, _ = seed("Club for the ceiling app (1,000 seats)", "A-J", 100)
    ceiling_large, _ = seed("Stadium for the ceiling app (100,000 seats)", "A-CV", 1000)
    ceiling_hot, _ = seed("Hot seat for the ceiling app", "A", 1)
    door_event, _ = seed("Door (20,000 tickets)", "A-T", 1000)
    ceiling_door, _ = seed("Locks for the ceiling app at 16 connections (20,000 seats)", "A-T", 1000)
    log(f"(6) seeding 100,000 seats: {seed_seconds:.2f} s wall (the whole `flask seed-seats` command)")

    os.environ["BENCH_DATABASE_URL"] = DATABASE_URL  # the scripts imported here read it
    import best_available  # bench/best_available.py and bench/checkins.py (they import this module's helpers)
    import checkins

    server = Server(gunicorn_options(args))
    results: dict[str, dict] = {}
    try:
        tokens = register_users(server.url, 64, "user")
        tokens_file = Path(server.metrics_dir) / "tokens.txt"
        tokens_file.write_text("\n".join(tokens) + "\n")
        hot_tokens = mint_tokens(1000)

        ceiling = Server(gunicorn_options(args), app="ceiling_app:app")
        try:
            log("(0) the ceiling app (bench/ceiling_app.py), same configuration and load:")
            lock_scenarios(
                ceiling, tokens_file, ceiling_small, ceiling_large, args.duration, results, "ceiling ", server.url
            )
            if not args.only_locks:
                # The same burst as (3): what one seat and 1,000 clients at once cost this stack at least.
                key = "ceiling (3) hot seat, 1,000 clients"
                results[key] = hot_seat(ceiling.url, seat_range(server.url, ceiling_hot)[0], hot_tokens)
                show(key, results[key])
                # (9) and (10)'s yardsticks: locks by the same clients as best available's and the door's.
                arena = arena_half_sold(server.url, tokens[0])
                key = "ceiling (9) lock, best available's 16 buyers"
                asks = best_available.ceiling_locks(arena)
                results[key] = as_summary(best_available.measure(ceiling.url, hot_tokens[-16:], 25, asks))
                show(key, results[key])
                key = "ceiling (10) lock, 16 connections"
                results[key] = checkins.locks(ceiling, tokens_file, seat_range(server.url, ceiling_door), args.duration)
                show(key, results[key])
        finally:
            ceiling.stop()
        if args.only_locks:
            lock_scenarios(server, tokens_file, small, large, args.duration, results)
            print_ratios(results)
            return 1 if any(fives(result["counts"]) for result in results.values()) else 0
        server.reset_peak_rss()  # (7) is the maps' peak, not the registrations' password hashing
        # The map first, while no lock exists: "nothing changed" must hold for the If-None-Match run.
        with urllib.request.urlopen(f"{server.url}/events/{large}/seats") as answer:
            etag = answer.headers.get("ETag") or ""
            map_bytes = len(answer.read())
        log(f"  seat map: {map_bytes / 1e6:.1f} MB, ETag {etag or 'none'}")
        results["(4) seat map, 100,000 seats"] = wrk(
            "seatmap.lua", server.url, connections=4, threads=2, duration=args.duration, EVENT_ID=str(large)
        )
        show("(4) seat map, 100,000 seats", results["(4) seat map, 100,000 seats"])
        if etag:
            results["(4) seat map, If-None-Match"] = wrk(
                "seatmap.lua",
                server.url,
                connections=4,
                threads=2,
                duration=args.duration,
                EVENT_ID=str(large),
                ETAG=etag,
            )
            show("(4) seat map, If-None-Match", results["(4) seat map, If-None-Match"])
        rss = server.peak_rss_mb()
        log(f"(7) peak RSS of one worker after the seat maps: {rss:.0f} MB")

        lock_scenarios(server, tokens_file, small, large, args.duration, results)

        hot = seat_range(server.url, hot_event)[0]  # a seat nobody has touched
        results["(3) hot seat, 1,000 clients"] = hot_seat(server.url, hot, hot_tokens)
        show("(3) hot seat, 1,000 clients", results["(3) hot seat, 1,000 clients"])

        low, high = seat_range(server.url, buy)
        purchase = wrk(
            "purchase.lua",
            server.url,
            connections=16,
            threads=16,
            duration=args.duration,
            TOKENS_FILE=str(tokens_file),
            SEAT_MIN=str(low),
            SEATS_PER_THREAD=str((high - low + 1) // 16),
        )
        purchase["purchases_per_s"] = purchase["counts"].get("purchases", 0) / (purchase["duration_us"] / 1e6)
        results["(5) purchase mix"] = purchase
        show("(5) purchase mix", purchase)
        log(f"  complete purchases: {purchase['purchases_per_s']:.0f}/s")
        purchase_event = json.load(urllib.request.urlopen(f"{server.url}/events/{buy}"))["event"]

        key = "(9) best available, arena half sold, 16 buyers"
        asks = best_available.best_available_asks(arena)
        results[key] = as_summary(best_available.measure(server.url, hot_tokens[-16:], 25, asks))
        show(key, results[key])
        codes, door_token = checkins.tickets_and_door(door_event)
        codes_file = Path(server.metrics_dir) / "codes.txt"
        codes_file.write_text("\n".join(codes) + "\n")
        key = "(10) check-in, 20,000 tickets, 16 doors"
        results[key] = checkins.check_ins(server, codes_file, door_token, door_event, args.duration)
        show(key, results[key])

        import create_event  # bench/create_event.py (it imports this module's helpers)

        creations = create_event.measure(server, runs=3)
        log(f"(8) a 100,000-seat venue becomes an event: median {statistics.median(creations):.2f} s")
    finally:
        server.stop()

    log("\nSummary")
    log(f"{'scenario':34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'5xx':>5}  statuses")
    any_5xx = 0
    for name, result in results.items():
        errors = fives(result["counts"])
        any_5xx += errors
        log(
            f"{name:34} {result['rps']:9.0f} {result['p50_us'] / 1000:8.1f} {result['p99_us'] / 1000:8.1f} "
            f"{errors:5d}  {json.dumps(result['counts'], sort_keys=True)}"
        )
    print_ratios(results, rss=rss)
    log(f"{'(5) complete purchases/s':34} {results['(5) purchase mix']['purchases_per_s']:9.0f}")
    log(f"{'(6) seeding 100,000 seats':34} {seed_seconds:8.2f} s")
    log(f"{'(7) peak worker RSS after maps':34} {rss:8.0f} MB")
    log(f"{'(8) 100,000-seat event from a venue':34} {statistics.median(creations):8.2f} s")
    log(
        f"purchase event afterwards: {purchase_event['booked']} booked, {purchase_event['locked']} locked, "
        f"{purchase_event['available']} available of {purchase_event['seat_count']}"
    )
    winners = results["(3) hot seat, 1,000 clients"]["counts"].get("200", 0)
    if winners != 1:
        log(f"FAIL: the hot seat had {winners} winners")
        return 1
    if any_5xx:
        log(f"FAIL: {any_5xx} requests got a 5xx")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
