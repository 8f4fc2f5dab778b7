"""The change feed through the shipped nginx: held requests pass, and the app counts each real client."""

from __future__ import annotations

import http.client
import json
import re
import socket

import requests

from ..nginx_server import Nginx, require_nginx
from ..waiting import wait_until


def _feed_through(proxy: Nginx, event_id: int, cursor: int, address: str) -> socket.socket:
    client = socket.socket()
    client.bind((address, 0))
    client.connect(("127.0.0.1", proxy.port))
    client.sendall(f"GET /events/{event_id}/changes?since={cursor}&wait=25 HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    return client


def _waiting(server) -> float:
    """Change-feed requests waiting in the (one-worker) server, from its /metrics."""
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    return float(re.search(r"^ticketing_feed_requests_waiting (\S+)$", text, re.MULTILINE).group(1))


def _answer(client: socket.socket, timeout: float) -> tuple[int, dict, dict]:
    client.settimeout(timeout)
    response = http.client.HTTPResponse(client)
    response.begin()
    return response.status, dict(response.getheaders()), json.loads(response.read())


def test_held_feeds_pass_through_nginx_and_are_capped_per_real_client(server_factory, backdoor):
    binary = require_nginx()
    server = server_factory(WORKERS=1, PROXY_COUNT=1, MAX_HELD_FEEDS_PER_ADDRESS=2)
    proxy = Nginx(binary, server.port)
    sockets: list[socket.socket] = []
    try:
        seat_ids = backdoor.event(per_row=2)
        event_id = requests.get(f"{proxy.url}/seats/{seat_ids[0]}").json()["seat"]["event_id"]
        cursor = requests.get(f"{proxy.url}/events/{event_id}/changes").json()["cursor"]
        user = backdoor.users(1)[0]

        # gunicorn sees every request come from nginx (127.0.0.1); the app counts the real clients.
        for address in ("127.0.0.2", "127.0.0.2", "127.0.0.3"):
            sockets.append(_feed_through(proxy, event_id, cursor, address))
        wait_until(lambda: _waiting(server) == 3, message="the three feed requests are not all held")
        refused = _feed_through(proxy, event_id, cursor, "127.0.0.2")
        status, headers, body = _answer(refused, timeout=10)
        refused.close()
        assert (status, body["code"]) == (429, "rate_limited") and int(headers["Retry-After"]) > 0
        other = _feed_through(proxy, event_id, cursor, "127.0.0.4")  # a third client is still held
        sockets.append(other)
        wait_until(lambda: _waiting(server) == 4)

        # Each held request waits in gunicorn, not in a 504 from nginx, until a change answers it.
        lock = requests.post(f"{proxy.url}/seats/{seat_ids[1]}/lock", headers=user["headers"])
        assert lock.status_code == 200
        for client in sockets:
            status, _, body = _answer(client, timeout=20)
            assert status == 200 and body["changes"] == [{"seat_id": seat_ids[1], "status": "locked"}]
        wait_until(lambda: _waiting(server) == 0)
    finally:
        for client in sockets:
            client.close()
        proxy.stop()
