"""Slow clients (slowloris): gunicorn alone gives each one a thread; behind the shipped nginx nobody notices.

Production runs behind nginx with docs/deploy/nginx.conf (docs/deploy/README.md). This test runs
Debian's nginx with that file in front of a real gunicorn; without nginx it skips, except in CI.
"""

from __future__ import annotations

import contextlib
import socket
import threading

import requests

from ..nginx_server import Nginx, require_nginx
from ..waiting import wait_until

_HEADER = b"GET /healthz HTTP/1.1\r\nHost: slow.example\r\nUser-Agent: " + b"s" * 100 + b"\r\n\r\n"


class Slowloris:
    """`count` connections that each send their request header one byte every `pause` seconds."""

    def __init__(self, port: int, count: int, pause: float = 2.0) -> None:
        self.sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        self.rounds = 0
        self._pause = pause
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        for position in range(len(_HEADER) - 1):  # never the last byte: the header never ends
            for client in self.sockets:
                with contextlib.suppress(OSError):  # the server may have given up on it
                    client.send(_HEADER[position : position + 1])
            self.rounds += 1
            if self._stop.wait(self._pause):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for client in self.sockets:
            client.close()


def _answers_within(url: str, seconds: float) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=seconds).status_code == 200
    except requests.RequestException:
        return False


def test_slow_clients_starve_gunicorn_alone_but_not_behind_nginx(server_factory):
    binary = require_nginx()
    server = server_factory(WORKERS=1, THREADS=8)
    proxy = Nginx(binary, server.port)
    try:
        assert _answers_within(server.url, 5) and _answers_within(proxy.url, 5)

        # Straight at gunicorn: 40 slow headers take its 8 threads, and a normal request waits.
        attack = Slowloris(server.port, 40)
        try:
            wait_until(
                lambda: not _answers_within(server.url, 2),
                timeout=30,
                message="gunicorn alone kept answering under 40 slow clients",
            )
        finally:
            attack.stop()
        wait_until(lambda: _answers_within(server.url, 2), timeout=30, message="gunicorn did not recover")

        # The same attack on nginx: it reads the headers itself, and gunicorn's threads stay free.
        attack = Slowloris(proxy.port, 40)
        try:
            for round_seen in range(1, 6):
                wait_until(lambda round_seen=round_seen: attack.rounds >= round_seen, timeout=30)
                assert _answers_within(proxy.url, 2), f"no answer through nginx in round {round_seen} of the attack"
        finally:
            attack.stop()
    finally:
        proxy.stop()
