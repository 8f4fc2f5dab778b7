"""A real gunicorn server (several worker processes) for race and fault tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from .databases import JWT_TEST_SECRET

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`gunicorn wsgi:app` on a free port of 127.0.0.1, stopped by `stop()`."""

    def __init__(self, database_url: str, *, log_path: Path, **settings):
        workers, threads = settings.pop("WORKERS", 4), settings.pop("THREADS", 8)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        # Every setting is pinned, so a developer's .env (which wsgi.py loads) cannot change a test.
        environment = {
            **os.environ,
            "HOLD_TTL_SECONDS": "60",
            "CHECKOUT_TTL_SECONDS": "600",
            "MAX_SEATS_PER_USER": "10",
            "LOCK_TIMEOUT_MS": "3000",
            "PAYMENT_PROVIDER": "fake",
            "APP_ENV": "testing",
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": JWT_TEST_SECRET,
            "SEAT_MAP_DIR": str(log_path.parent / "seat-maps"),  # the test's own, not the host's
            **{name: str(value) for name, value in settings.items()},
        }
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "5",
                "--no-control-socket",  # its default path is shared by every master on the machine
                "wsgi:app",
            ],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log_path.read_text()}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not become ready:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> set[int]:
        """The pids of the master's live worker processes (children), from /proc."""
        workers = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ")"
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == self.process.pid and fields[0] != "Z":
                workers.add(int(entry.name))
        return workers


@contextmanager
def servers(database_url: str, log_directory: Path) -> Iterator:
    """A `start(**settings) -> Server` for the block; every server started is stopped after it."""
    started: list[Server] = []

    def start(**settings) -> Server:
        server = Server(database_url, log_path=log_directory / f"gunicorn-{len(started)}.log", **settings)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
