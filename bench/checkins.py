#!/usr/bin/env python3
"""Check-ins per second at a 20,000-ticket event, beside locks per second measured the same way.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_door .venv/bin/python bench/checkins.py

gunicorn as production runs it (`gunicorn -c gunicorn.conf.py`, bench/run.py's Server) on PostgreSQL;
load from wrk on loopback, 16 connections (16 doors) for --duration seconds each:
(1) `POST /events/<id>/checkins` by a platform admin, each request a ticket not scanned before
    (bench/checkin.lua: every wrk thread walks its own share of the codes);
(2) `POST /seats/<random seat>/lock` on a 20,000-seat event, 1,000 users (bench/lock.lua), the same
    connections, threads and duration;
(3) the same locks served by the ceiling app (bench/ceiling_app.py: the least a correct, durable,
    authenticated lock can do in Flask on PostgreSQL) under the same gunicorn configuration, on a
    20,000-seat event of its own.
Each scenario starts with --warmup seconds of the same load, not counted (on 2,000 tickets kept for
it, and on another event's seats), so that no worker answers its first request inside the measure.
Prints requests/s, p50 and p99 latency and status counts of each, what pg_stat_activity showed,
and check-ins as a ratio to (2) and to (3); exits 1 if any request got a 5xx. The tickets are written
straight into the database (selling 20,000 seats is not under test). Needs wrk and a PostgreSQL server.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/ticketing_bench_checkins")
sys.path.insert(0, str(ROOT))

from run import (  # noqa: E402 - bench/run.py reads BENCH_DATABASE_URL when imported
    DATABASE_URL,
    ActivitySampler,
    Server,
    app_environment,
    configuration,
    fives,
    fresh_database,
    gunicorn_options,
    log,
    mint_tokens,
    seat_range,
    seed,
    show,
    wrk,
)

CONNECTIONS, WRK_THREADS = 16, 2
WARMUP_TICKETS = 2_000  # of the event's 20,000: scanned during the warm-up, never in the measure


def tickets_and_door(event_id: int) -> tuple[list[str], str]:
    """A ticket for every seat of the event (one holder), and a platform admin's token (the door)."""
    for name in ("DATABASE_URL", "JWT_SECRET_KEY", "APP_ENV", "ALLOW_TEST_PAYMENTS", "ALLOW_PER_PROCESS_LIMITS"):
        os.environ[name] = app_environment()[name]
    from flask_jwt_extended import create_access_token
    from sqlalchemy import insert, select

    from ticketing import create_app
    from ticketing.extensions import db
    from ticketing.models import Seat, Ticket, User

    app = create_app()
    with app.app_context():
        door = User(email="door@bench.example", password_hash="-", is_admin=True)
        holder = User(email="holder@bench.example", password_hash="-")
        db.session.add_all([door, holder])
        db.session.flush()
        seat_ids = list(db.session.scalars(select(Seat.id).where(Seat.event_id == event_id).order_by(Seat.id)))
        codes = [secrets.token_urlsafe(16) for _ in seat_ids]
        db.session.execute(
            insert(Ticket.__table__),
            [{"code": code, "seat_id": seat, "user_id": holder.id} for code, seat in zip(codes, seat_ids, strict=True)],
        )
        db.session.commit()
        token = create_access_token(identity=door)
        db.engine.dispose()
    return codes, token


def check_ins(server: Server, codes_file: Path, token: str, event_id: int, duration: float) -> dict:
    return wrk(
        "checkin.lua",
        server.url,
        connections=CONNECTIONS,
        threads=WRK_THREADS,
        duration=duration,
        CODES_FILE=str(codes_file),
        DOOR_TOKEN=token,
        EVENT_ID=str(event_id),
        WRK_THREADS=str(WRK_THREADS),
    )


def locks(server: Server, tokens_file: Path, seats: tuple[int, int], duration: float) -> dict:
    return wrk(
        "lock.lua",
        server.url,
        connections=CONNECTIONS,
        threads=WRK_THREADS,
        duration=duration,
        TOKENS_FILE=str(tokens_file),
        SEAT_MIN=str(seats[0]),
        SEAT_MAX=str(seats[1]),
    )


class CpuMeter:
    """CPU seconds spent by the server's workers and by the database's backends serving the bench
    database while a scenario runs: a cost per request that does not move with the other work on the
    machine the way requests/s and latencies do (it does not count wrk, nor the master process). The
    database's figure is a lower bound: a backend whose connection closed before the end (a pool's
    overflow) is not counted."""

    _TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, server: Server) -> None:
        self.server = server

    def __enter__(self) -> CpuMeter:
        self.start = self._read()
        return self

    def __exit__(self, *_exc) -> None:
        end = self._read()
        self.workers = sum(end[0].get(pid, 0) - self.start[0].get(pid, 0) for pid in end[0])
        self.database = sum(end[1].get(pid, 0) - self.start[1].get(pid, 0) for pid in end[1])

    def _read(self) -> tuple[dict[int, float], dict[int, float]]:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(DATABASE_URL).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as connection:
            backends = [pid for (pid,) in connection.execute(_BACKENDS)]
        return self._cpu(self.server.worker_pids()), self._cpu(backends)

    def _cpu(self, pids: list[int]) -> dict[int, float]:
        seconds = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            seconds[pid] = (int(fields[11]) + int(fields[12])) / self._TICK  # utime, stime
        return seconds


_BACKENDS = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
    " AND pid <> pg_backend_pid()"
)


def measured(name: str, results: dict, server: Server, run) -> None:
    with ActivitySampler() as activity, CpuMeter(server) as cpu:
        results[name] = run()
    result = results[name]
    result["cpu_ms"] = (cpu.workers * 1000 / result["requests"], cpu.database * 1000 / result["requests"])
    show(name, result)
    log(f"    pg_stat_activity: {activity.summary()}")
    workers, database = result["cpu_ms"]
    log(f"    CPU per request: {workers:.2f} ms in the workers, {database:.2f} ms in PostgreSQL (at least)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk scenario")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load before each scenario, not counted")
    parser.add_argument("--worker-class", choices=("gthread", "sync"))
    parser.add_argument("--workers", type=int)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        log("wrk is not installed: apt-get install wrk")
        return 2

    log(configuration(args))
    log(f"database {DATABASE_URL}; {os.cpu_count()} cores; {CONNECTIONS} connections, {WRK_THREADS} wrk threads")
    fresh_database()
    door_event, _ = seed("Door (20,000 tickets)", "A-T", 1000)
    lock_event, _ = seed("Locks (20,000 seats)", "A-T", 1000)
    ceiling_event, _ = seed("Locks for the ceiling app (20,000 seats)", "A-T", 1000)
    warm_event, _ = seed("Warm-up (20,000 seats)", "A-T", 1000)
    codes, door_token = tickets_and_door(door_event)
    results: dict[str, dict] = {}
    check_in, lock, ceiling_lock = "(1) check-in, 20,000 tickets", "(2) lock, 20,000 seats", "(3) ceiling app lock"
    work = Path(tempfile.mkdtemp(prefix="bench-checkins-"))  # the codes and tokens, for wrk's scripts
    try:
        codes_file, warmup_codes, tokens_file = work / "codes.txt", work / "warmup-codes.txt", work / "tokens.txt"
        codes_file.write_text("\n".join(codes[:-WARMUP_TICKETS]) + "\n")
        warmup_codes.write_text("\n".join(codes[-WARMUP_TICKETS:]) + "\n")
        tokens_file.write_text("\n".join(mint_tokens(1000)) + "\n")
        server = Server(gunicorn_options(args))
        try:
            warm_seats, lock_seats, ceiling_seats = (
                seat_range(server.url, event) for event in (warm_event, lock_event, ceiling_event)
            )
            check_ins(server, warmup_codes, door_token, door_event, args.warmup)
            scans = lambda: check_ins(server, codes_file, door_token, door_event, args.duration)  # noqa: E731
            measured(check_in, results, server, scans)
            locks(server, tokens_file, warm_seats, args.warmup)
            measured(lock, results, server, lambda: locks(server, tokens_file, lock_seats, args.duration))
        finally:
            server.stop()
        ceiling = Server(gunicorn_options(args), app="ceiling_app:app")
        try:
            locks(ceiling, tokens_file, warm_seats, args.warmup)
            measured(ceiling_lock, results, ceiling, lambda: locks(ceiling, tokens_file, ceiling_seats, args.duration))
        finally:
            ceiling.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    admitted = results[check_in]["counts"].get("201", 0)
    log(f"admitted {admitted} distinct tickets (a 409 would mean a thread ran out of codes)")
    log("summary (requests/s, p50 ms, p99 ms, CPU ms per request in the workers and in PostgreSQL):")
    for name, result in results.items():
        log(
            f"  {name:32} {result['rps']:8.0f} {result['p50_us'] / 1000:8.1f} {result['p99_us'] / 1000:8.1f}"
            f" {result['cpu_ms'][0]:8.2f} {result['cpu_ms'][1]:8.2f}"
        )
    rate = results[check_in]["rps"]
    log(
        f"check-ins/s against locks/s: {rate / results[lock]['rps']:.2f}x (target >= 1); against the ceiling"
        f" app's locks/s: {rate / results[ceiling_lock]['rps']:.2f}x (target >= 0.5); check-in p99"
        f" {results[check_in]['p99_us'] / 1000:.0f} ms (target < 100)"
    )
    return 1 if any(fives(result["counts"]) for result in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
