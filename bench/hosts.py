#!/usr/bin/env python3
"""Do hosts add throughput? Locks on one event through HAProxy, with 1 host, then 3 hosts.

    make bench-hosts        # or: .venv/bin/python bench/hosts.py [--duration 10] [--runs 1x5,3x5,1x6,3x2]

A run is HOSTSxWORKERS: that many hosts of that many workers (8 threads each, GUNICORN_THREADS),
each `gunicorn -c gunicorn.conf.py` in a network namespace of its own (as root; loopback addresses
otherwise). The hosts reach PostgreSQL through PgBouncer and the load comes through HAProxy, both
as configured in docs/deploy/ (tests/server/cluster.py builds it, as the multi-host test does).
The default runs compare 1 and 3 hosts of the production default of workers (5 on 2 cores: 3
hosts then run three times the processes), then 1 and 3 hosts with the same 6 workers in all.
Each run, a fresh 20,000-seat event takes `POST /seats/<random seat>/lock` from wrk (64
connections, 1,000 users) while pg_stat_activity is sampled every 50 ms (bench/run.py's
ActivitySampler): how many of the service's backends are active, and how many of them wait on a
lock. Prints one line per run and a summary; exits 1 if any request got a 5xx. Needs wrk,
PgBouncer, HAProxy and a PostgreSQL server (BENCH_DATABASE_URL, default database
ticketing_bench_hosts). Everything runs on this machine: the hosts share its cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/ticketing_bench_hosts")
sys.path.insert(0, str(ROOT))

from run import (  # noqa: E402 - bench/run.py reads BENCH_DATABASE_URL when imported
    DATABASE_URL,
    SECRET,
    ActivitySampler,
    fives,
    fresh_database,
    log,
    mint_tokens,
    seat_range,
    seed,
    wrk,
)

from config import default_workers  # noqa: E402
from tests.server.cluster import Cluster, UnavailableError  # noqa: E402


def run_hosts(count: int, workers: int, tokens_file: Path, args: argparse.Namespace) -> dict:
    """Start `count` hosts, lock random seats of a fresh event through HAProxy, stop them."""
    event, _ = seed(f"{count} hosts x {workers} workers", "A-T", 1000)
    cluster = Cluster(
        DATABASE_URL,
        SECRET,
        count,
        WEB_CONCURRENCY=workers,
        GUNICORN_THREADS=args.threads,
        HOLD_TTL_SECONDS=600,  # no hold runs out during the run
        MAX_SEATS_PER_USER=100_000,
        LOG_LEVEL="WARNING",
    )
    try:
        low, high = seat_range(cluster.url, event)
        with ActivitySampler() as activity:
            result = wrk(
                "lock.lua",
                cluster.url,
                connections=64,
                threads=2,
                duration=args.duration,
                TOKENS_FILE=str(tokens_file),
                SEAT_MIN=str(low),
                SEAT_MAX=str(high),
            )
        result["granted_per_s"] = result["counts"].get("200", 0) / (result["duration_us"] / 1e6)
        result["activity"] = activity
        result["network"] = cluster.network.kind
    finally:
        cluster.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per run")
    workers = default_workers()
    parser.add_argument(
        "--runs",
        default=f"1x{workers},3x{workers},1x6,3x2",
        help="HOSTSxWORKERS per run, comma separated (default: production's workers per host, then 6 in all)",
    )
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (default: production's)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        log("wrk is not installed: apt-get install wrk")
        return 2

    runs = [tuple(int(number) for number in run.split("x")) for run in args.runs.split(",")]
    log(
        f"bench/hosts.py: runs (hosts x workers) {args.runs}, {args.threads} threads per worker, PgBouncer and "
        f"HAProxy as in docs/deploy/; {os.cpu_count()} cores shared by everything; database {DATABASE_URL}"
    )
    fresh_database()
    directory = Path(tempfile.mkdtemp(prefix="bench-hosts-"))
    results: dict[tuple[int, int], dict] = {}
    try:
        tokens_file = directory / "tokens.txt"
        tokens_file.write_text("\n".join(mint_tokens(1000)) + "\n")
        for count, workers in runs:
            try:
                results[(count, workers)] = result = run_hosts(count, workers, tokens_file, args)
            except UnavailableError as error:
                log(f"cannot run: {error}")
                return 2
            log(
                f"  {count} host(s) x {workers} workers on {result['network']}: {result['rps']:.0f} requests/s, "
                f"{result['granted_per_s']:.0f} locks granted/s, p50 {result['p50_us'] / 1000:.1f} ms, "
                f"p99 {result['p99_us'] / 1000:.1f} ms, statuses {result['counts']}"
            )
            log(f"    pg_stat_activity: {result['activity'].summary()}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    log("\nSummary (locks on one event through HAProxy and PgBouncer; workers: in all the hosts)")
    log(
        f"{'hosts':>5} {'workers':>7} {'req/s':>8} {'granted/s':>10} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'active':>7} {'waiting':>8} {'5xx':>4}"
    )
    any_5xx = 0
    for (count, workers), result in results.items():
        samples = result["activity"].samples or [(0, 0)]
        active = sum(total for total, _ in samples) / len(samples)
        waiting = sum(locked for _, locked in samples) / len(samples)
        errors = fives(result["counts"])
        any_5xx += errors
        log(
            f"{count:5d} {count * workers:7d} {result['rps']:8.0f} {result['granted_per_s']:10.0f} "
            f"{result['p50_us'] / 1000:7.1f} {result['p99_us'] / 1000:7.1f} {active:7.1f} {waiting:8.1f} {errors:4d}"
        )
    if any_5xx:
        log(f"FAIL: {any_5xx} requests got a 5xx")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
