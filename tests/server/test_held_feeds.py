"""Held change-feed requests on real gunicorn: each waits without a thread, and one address may hold few.

Before holding_worker.py, every `GET /events/<id>/changes?wait=25` kept a gunicorn thread asleep:
32 of them (4 workers x 8 threads) and /healthz timed out and other users' locks waited 10 s or more.
"""

from __future__ import annotations

import http.client
import json
import re
import selectors
import signal
import socket
import statistics
import time

import requests

from ..waiting import wait_until


def _event_of(server, seat_id: int) -> int:
    return requests.get(f"{server.url}/seats/{seat_id}").json()["seat"]["event_id"]


def _cursor(server, event_id: int) -> int:
    return requests.get(f"{server.url}/events/{event_id}/changes").json()["cursor"]


def _waiting(server) -> float:
    """Change-feed requests waiting in the server's live workers, from /metrics."""
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    return float(re.search(r"^ticketing_feed_requests_waiting (\S+)$", text, re.MULTILINE).group(1))


def _open_feed(server, event_id: int, cursor: int, address: str) -> socket.socket:
    """A long poll of 25 s sent from `address` (any of 127.0.0.0/8), left open."""
    client = socket.socket()
    client.bind((address, 0))
    client.connect(("127.0.0.1", server.port))
    client.sendall(f"GET /events/{event_id}/changes?since={cursor}&wait=25 HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    return client


def _answer(client: socket.socket, timeout: float) -> tuple[int, dict, str]:
    """Read one answer from a socket: status, headers, body."""
    client.settimeout(timeout)
    response = http.client.HTTPResponse(client)
    response.begin()
    return response.status, dict(response.getheaders()), response.read().decode()


def _unanswered(sockets: list[socket.socket]) -> bool:
    """True when no socket has anything to read (every request is still held)."""
    with selectors.DefaultSelector() as selector:
        for client in sockets:
            selector.register(client, selectors.EVENT_READ)
        return not selector.select(timeout=0)


def _lock_latencies(server, user: dict, seat_ids: list[int], count: int) -> list[float]:
    """Seconds each of `count` locks took (each released after, untimed, so the hold limit never binds)."""
    seconds = []
    with requests.Session() as session:
        for index in range(count):
            seat_id = seat_ids[index % len(seat_ids)]
            started = time.perf_counter()
            answer = session.post(f"{server.url}/seats/{seat_id}/lock", headers=user["headers"], timeout=30)
            seconds.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
            assert session.delete(f"{server.url}/seats/{seat_id}/lock", headers=user["headers"]).status_code == 200
    return seconds


def _lock_median(server, user: dict, seat_ids: list[int], blocks: int = 5, per_block: int = 15) -> float:
    """A lock's median latency: of `blocks` runs of `per_block` locks, the lowest run's median.

    This machine (and CI's) runs other work beside the test, which comes in bursts: the quietest of
    a few short runs shows what the server itself costs, where one long run shows the bursts too.
    """
    return min(statistics.median(_lock_latencies(server, user, seat_ids, per_block)) for _ in range(blocks))


def test_a_thousand_held_feeds_leave_locks_as_fast_as_idle(server_factory, backdoor, tmp_path):
    server = server_factory(PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    followed = backdoor.event(per_row=3)
    locked = backdoor.event(rows="A-B", per_row=10)
    event_id = _event_of(server, followed[0])
    user, other = backdoor.users(2)
    cursor = _cursor(server, event_id)

    _lock_latencies(server, user, locked, 10)  # warm every worker's connections up
    idle_before = _lock_median(server, user, locked)

    # 1,000 open seat maps from 50 addresses (20 each: the default cap per address and worker).
    feeds = [_open_feed(server, event_id, cursor, f"127.0.0.{2 + index // 20}") for index in range(1000)]
    try:
        wait_until(lambda: _waiting(server) == 1000, timeout=60, message="not every feed request is held")
        assert _unanswered(feeds)

        busy = _lock_median(server, user, locked)
        assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
        assert _unanswered(feeds)  # still held: they were waiting all along, not answered and gone

        # One change answers every one of them with it, well before their 25 s run out.
        answer = requests.post(f"{server.url}/seats/{followed[1]}/lock", headers=other["headers"])
        assert answer.status_code == 200
        for client in feeds:
            status, _, body = _answer(client, timeout=20)
            assert status == 200, body
            assert json.loads(body)["changes"] == [{"seat_id": followed[1], "status": "locked"}]
        wait_until(lambda: _waiting(server) == 0, message="answered feeds still counted as waiting")
    finally:
        for client in feeds:
            client.close()

    # Idle again (before, held, after): other load on the machine that grows or fades during the
    # test moves both idle figures, and their mean is the idle latency at the time of the held one.
    idle = (idle_before + _lock_median(server, user, locked)) / 2
    assert busy <= 2 * idle, f"lock median {busy * 1000:.1f} ms with 1,000 held feeds, {idle * 1000:.1f} ms idle"


def test_one_address_holds_at_most_the_cap_then_gets_429_at_once(server_factory, backdoor, tmp_path):
    server = server_factory(WORKERS=1, MAX_HELD_FEEDS_PER_ADDRESS=3, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    seat_ids = backdoor.event(per_row=3)
    event_id = _event_of(server, seat_ids[0])
    user = backdoor.users(1)[0]
    cursor = _cursor(server, event_id)

    held = [_open_feed(server, event_id, cursor, "127.0.0.2") for _ in range(3)]
    try:
        wait_until(lambda: _waiting(server) == 3)
        refused = _open_feed(server, event_id, cursor, "127.0.0.2")
        status, headers, body = _answer(refused, timeout=10)  # at once, not after its 25 s
        refused.close()
        assert status == 429 and json.loads(body)["code"] == "rate_limited"
        assert int(headers["Retry-After"]) > 0
        # Without `wait` nothing is held, so the same address still reads the feed.
        assert requests.get(f"{server.url}/events/{event_id}/changes", params={"since": cursor}).status_code == 200

        elsewhere = _open_feed(server, event_id, cursor, "127.0.0.3")  # another address is not affected
        held.append(elsewhere)
        wait_until(lambda: _waiting(server) == 4)
        assert _unanswered(held)

        # Once answered, the address's places are free again.
        assert requests.post(f"{server.url}/seats/{seat_ids[0]}/lock", headers=user["headers"]).status_code == 200
        assert all(_answer(client, timeout=20)[0] == 200 for client in held)
        again = _open_feed(server, event_id, _cursor(server, event_id), "127.0.0.2")
        held.append(again)
        wait_until(lambda: _waiting(server) == 1)
    finally:
        for client in held:
            client.close()


def test_a_stopping_server_answers_its_held_feeds_instead_of_cutting_them(server_factory, backdoor, tmp_path):
    server = server_factory(WORKERS=2, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    seat_ids = backdoor.event(per_row=2)
    event_id = _event_of(server, seat_ids[0])
    cursor = _cursor(server, event_id)
    feeds = [_open_feed(server, event_id, cursor, "127.0.0.2") for _ in range(4)]
    try:
        wait_until(lambda: _waiting(server) == 4)
        server.process.send_signal(signal.SIGTERM)  # graceful stop: 5 s of grace (tests' gunicorn)
        for client in feeds:
            status, _, body = _answer(client, timeout=10)
            assert status == 200 and json.loads(body)["changes"] == []
    finally:
        for client in feeds:
            client.close()
