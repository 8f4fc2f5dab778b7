"""Observability of real processes: the sweeper loop (`flask expire-holds --loop`) and gunicorn's metrics.

The in-process tests of request ids, logs and metrics are in tests/api/test_observability.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector

from ..api.test_observability import json_lines, parse_metrics, value
from ..databases import JWT_TEST_SECRET
from ..gunicorn_server import PROJECT_ROOT, free_port

GUNICORN = Path(sys.executable).with_name("gunicorn")


# --- the sweeper -------------------------------------------------------------------------------


def test_sweeper_releases_a_run_out_lock_and_stops_on_sigterm(api, client, backdoor, database_url, tmp_path):
    seats = api.seed(rows="A", per_row=2)["seat_ids"]
    user = api.user()
    api.lock_taken_ago(user["id"], seats[0], seconds_ago=120)
    client.post(f"/seats/{seats[1]}/lock", headers=user["headers"])
    assert backdoor.seat_statuses(seats) == {seats[0]: "locked", seats[1]: "locked"}

    environment = {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": "x" * 40,
        "PAYMENT_PROVIDER": "fake",
        "LOG_LEVEL": "INFO",
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log_path = tmp_path / "sweeper.log"
    with open(log_path, "wb") as log:
        sweeper = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("flask")),
                "--app",
                "wsgi",
                "expire-holds",
                "--loop",
                "--interval",
                "0.2",
            ],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while backdoor.seat_statuses([seats[0]])[seats[0]] != "available":
                assert sweeper.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
            sweeper.send_signal(signal.SIGTERM)
            assert sweeper.wait(timeout=10) == 0, log_path.read_text()
        finally:
            if sweeper.poll() is None:
                sweeper.kill()
                sweeper.wait()

    assert backdoor.seat_statuses([seats[1]]) == {seats[1]: "locked"}
    lines = json_lines(log_path.read_text())
    passes = [line for line in lines if line["message"] == "sweeper pass"]
    assert sum(line["released_locks"] for line in passes) == 1
    assert {"expired_orders", "settled_payments", "refunded_payments", "duration_ms"} <= set(passes[0])
    assert lines[-1]["message"] == "sweeper stopped"


# --- gunicorn, several workers, one metrics view -----------------------------------------------


def _healthz_count_per_file(directory: Path) -> list[float]:
    counts = []
    for path in sorted(directory.glob("counter_*.db")):
        total = 0.0
        for metric in MultiProcessCollector.merge([str(path)]):
            for sample in metric.samples:
                if sample.name == "ticketing_http_requests_total" and sample.labels.get("route") == "/healthz":
                    total += sample.value
        counts.append(total)
    return counts


@pytest.mark.race
def test_gunicorn_sums_metrics_across_workers(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    stale = metrics_dir / "counter_999999.db"
    stale.write_bytes(b"left over by the previous run")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "JWT_SECRET_KEY": JWT_TEST_SECRET,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "3",
        "GUNICORN_THREADS": "2",
    }
    environment.pop("GUNICORN_CMD_ARGS", None)
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py"],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                time.sleep(0.1)
            assert not stale.exists()

            sent = 0
            with ThreadPoolExecutor(max_workers=12) as pool:
                for _ in range(10):  # until at least two workers have answered some
                    statuses = list(
                        pool.map(lambda _: requests.get(f"{url}/healthz", timeout=5).status_code, range(60))
                    )
                    assert statuses == [200] * 60
                    sent += 60
                    if sum(1 for count in _healthz_count_per_file(metrics_dir) if count) >= 2:
                        break
            per_worker = [count for count in _healthz_count_per_file(metrics_dir) if count]
            assert len(per_worker) >= 2, per_worker

            values = parse_metrics(requests.get(f"{url}/metrics", timeout=5).text)
            total = value(values, "ticketing_http_requests_total", method="GET", route="/healthz", status="200")
            assert total == sent == sum(per_worker)
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert server.returncode == 0, log_path.read_text()
