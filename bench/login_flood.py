#!/usr/bin/env python3
"""What a flood of failed logins from one address costs everyone else (issue 11, point 4).

    .venv/bin/python bench/login_flood.py [--flooders 32] [--seconds 20] \
        [--rate-limit-storage redis://127.0.0.1:6379/9] [--project DIR]

Starts gunicorn as production does (`gunicorn -c gunicorn.conf.py`: its workers and threads,
APP_ENV=production, PostgreSQL, PROXY_COUNT=1 so that each client's address is its X-Forwarded-For)
on a fresh database, registers one real user and seeds one event. Then a measuring client, from
its own address, loops over: log in (right password), GET /healthz, POST /seats/<id>/lock (a renewal),
first alone for --seconds ("idle"), then while --flooders clients from ONE other address post
logins with unknown emails and a wrong password as fast as they are answered ("flood"). Prints the
median and 90th percentile of each of the measurer's requests in both phases, and the flood's
answers (401: a password hash was computed; 429: refused before any hash).

--project runs another checkout of the project with this script (e.g. the code before a change:
`git archive <commit> | tar -x -C /tmp/before`, then `--project /tmp/before`); its settings are
the same environment variables. Needs PostgreSQL (BENCH_DATABASE_URL, default a database of its
own, dropped and made afresh).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/ticketing_login_flood"
)
SECRET = "benchmark-secret-benchmark-secret-benchmark-secret"
PASSWORD = "benchmark password"
MEASURER, FLOOD = "203.0.113.10", "198.51.100.66"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(project: Path, storage: str, **extra: str) -> dict:
    return {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": DATABASE_URL,
        "JWT_SECRET_KEY": SECRET,
        "PROXY_COUNT": "1",
        "RATE_LIMIT_STORAGE_URL": storage,
        # The benchmark's own choices, which production would otherwise refuse: the test gateway, and
        # (with the default memory:// storage) limits counted per worker process.
        "ALLOW_TEST_PAYMENTS": "1",
        "ALLOW_PER_PROCESS_LIMITS": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(project),
        **extra,
    }


def flask(project: Path, storage: str, *args: str) -> str:
    command = [str(BIN / "flask"), "--app", "wsgi", *args]
    done = subprocess.run(command, cwd=project, env=environment(project, storage), capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def fresh_database(project: Path, storage: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(DATABASE_URL)
    admin = url.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{url.database}"')
    flask(project, storage, "db", "upgrade")


def start_gunicorn(project: Path, storage: str) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="login-flood-")) / "gunicorn.log"
    env = environment(project, storage, GUNICORN_BIND=f"127.0.0.1:{port}")
    env.pop("GUNICORN_CMD_ARGS", None)
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log_path, "wb"),  # noqa: SIM115 - the server's whole life
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, url, log_path
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise SystemExit(f"gunicorn did not start: see {log_path}")


def measure(url: str, email: str, token: str, seat_id: int, stop: threading.Event) -> dict[str, list[float]]:
    """The measurer's loop: one login, one /healthz, one lock renewal, again and again until `stop`."""
    timings: dict[str, list[float]] = {"login": [], "healthz": [], "lock": []}
    headers = {"X-Forwarded-For": MEASURER}
    requests_to_time = {
        "login": ("POST", "/auth/login", {"json": {"email": email, "password": PASSWORD}, "headers": headers}),
        "healthz": ("GET", "/healthz", {"headers": headers}),
        "lock": ("POST", f"/seats/{seat_id}/lock", {"headers": {**headers, "Authorization": f"Bearer {token}"}}),
    }
    with requests.Session() as session:
        while not stop.is_set():
            for name, (method, path, options) in requests_to_time.items():
                started = time.perf_counter()
                response = session.request(method, url + path, timeout=60, **options)
                timings[name].append(time.perf_counter() - started)
                if response.status_code != 200:  # counted, and printed with the results
                    timings.setdefault(f"{name} {response.status_code}", []).append(time.perf_counter() - started)
    return timings


def flood(url: str, stop: threading.Event, answers: Counter, lock: threading.Lock) -> None:
    with requests.Session() as session:
        while not stop.is_set():
            email = f"nobody-{uuid.uuid4().hex}@example.com"
            response = session.post(
                f"{url}/auth/login",
                json={"email": email, "password": "wrong password"},
                headers={"X-Forwarded-For": FLOOD},
                timeout=120,
            )
            with lock:
                answers[response.status_code] += 1


def phase(url: str, email: str, token: str, seat_id: int, seconds: float, flooders: int) -> tuple[dict, Counter]:
    stop, answers, lock = threading.Event(), Counter(), threading.Lock()
    threads = [threading.Thread(target=flood, args=(url, stop, answers, lock)) for _ in range(flooders)]
    for thread in threads:
        thread.start()
    result: dict = {}
    measurer = threading.Thread(target=lambda: result.update(measure(url, email, token, seat_id, stop)))
    time.sleep(1 if flooders else 0)  # let the flood get going before measuring
    measurer.start()
    time.sleep(seconds)
    stop.set()
    measurer.join()
    for thread in threads:
        thread.join()
    return result, answers


def summary(label: str, timings: dict[str, list[float]]) -> str:
    parts = []
    for name, values in timings.items():
        ordered = sorted(values)
        p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]  # nearest rank
        parts.append(
            f"{name} median {statistics.median(values) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms (n={len(values)})"
        )
    return f"{label:6} " + "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flooders", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate-limit-storage", default=os.environ.get("RATE_LIMIT_STORAGE_URL", "memory://"))
    parser.add_argument("--project", type=Path, default=ROOT, help="the checkout to serve (default: this one)")
    args = parser.parse_args()
    project, storage = args.project.resolve(), args.rate_limit_storage

    fresh_database(project, storage)
    event_id = int(
        flask(project, storage, "seed-seats", "--event", "Flood", "--rows", "A", "--per-row", "10").split()[-1]
    )
    process, url, log_path = start_gunicorn(project, storage)
    print(f"gunicorn's log: {log_path}")
    try:
        email = f"measurer-{uuid.uuid4().hex[:8]}@example.com"
        headers = {"X-Forwarded-For": MEASURER}
        requests.post(f"{url}/auth/register", json={"email": email, "password": PASSWORD}, headers=headers, timeout=60)
        login = requests.post(f"{url}/auth/login", json={"email": email, "password": PASSWORD}, headers=headers)
        token = login.json()["access_token"]
        seat_id = requests.get(f"{url}/events/{event_id}/seats", timeout=60).json()["seats"][0]["id"]
        workers = len(Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split())
        print(f"project {project}; gunicorn -c gunicorn.conf.py: {workers} workers; rate limits in {storage}")
        idle, _ = phase(url, email, token, seat_id, args.seconds, 0)
        flooded, answers = phase(url, email, token, seat_id, args.seconds, args.flooders)
        print(summary("idle", idle))
        print(summary("flood", flooded))
        total = sum(answers.values())
        print(f"flood  {args.flooders} clients, one address, {total} logins in {args.seconds:.0f} s: {dict(answers)}")
        print(
            json.dumps(
                {
                    "idle": {k: statistics.median(v) for k, v in idle.items()},
                    "flood": {k: statistics.median(v) for k, v in flooded.items()},
                    "flood_answers": dict(answers),
                }
            )
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
