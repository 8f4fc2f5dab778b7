"""Oversized request heads on a real gunicorn: past the app's limits but within gunicorn's, JSON.

gunicorn answers heads past its own limits itself, in plain text, before the app runs; its limits are
set above the app's (gunicorn.conf.py), so a client that goes a little too far gets the API's JSON.
Past gunicorn's limits the reverse proxy in front is what answers (docs/operations.md).
"""

from __future__ import annotations

import socket

import pytest
import requests

pytestmark = pytest.mark.race


def _assert_json_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:300]
    assert response.json()["code"] == code


def _raw_status(server, request: bytes) -> tuple[int, bytes]:
    """Send a raw request (requests would refuse some of these heads itself); the status and the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def test_heads_just_under_gunicorns_limits_get_the_apps_json(server_factory):
    server = server_factory(WORKERS=1, THREADS=4)
    # A URL of 8,000 bytes: over the app's 4,096, under gunicorn's request line of 8,190.
    _assert_json_error(requests.get(f"{server.url}/events?x={'a' * 7985}", timeout=30), 414, "uri_too_long")
    # A header of 12,000 bytes: over the app's 8,190, under gunicorn's 16,380.
    big = {"X-Big": "b" * 12_000}
    _assert_json_error(requests.get(f"{server.url}/events", headers=big, timeout=30), 431, "headers_too_large")
    # 150 header fields: over the app's 100, under gunicorn's 200.
    many = {f"X-Field-{number}": "1" for number in range(150)}
    _assert_json_error(requests.get(f"{server.url}/events", headers=many, timeout=30), 431, "headers_too_large")
    # and heads within the app's limits are served as ever
    assert requests.get(f"{server.url}/events?x={'a' * 4000}", headers={"X-Ok": "o" * 8000}, timeout=30).ok


def test_past_gunicorns_own_limits_gunicorn_answers(server_factory):
    """The boundary, documented: here no app runs, and the proxy in front is what should answer."""
    server = server_factory(WORKERS=1, THREADS=4)
    status, answer = _raw_status(server, b"GET /events?x=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414 and b'"code"' not in answer
    status, answer = _raw_status(server, b"GET /events HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20_000 + b"\r\n\r\n")
    assert status in (400, 431) and b'"code"' not in answer


def test_production_without_a_metrics_token_warns_at_start(server_factory):
    server = server_factory(WORKERS=1, THREADS=2, APP_ENV="production", ALLOW_TEST_PAYMENTS="1")
    assert "METRICS_TOKEN is not set" in server.log()
    assert requests.get(f"{server.url}/metrics", timeout=30).status_code == 200


def test_with_a_metrics_token_metrics_need_it(server_factory):
    server = server_factory(
        WORKERS=2,
        THREADS=2,
        APP_ENV="production",
        ALLOW_TEST_PAYMENTS="1",
        ALLOW_PER_PROCESS_LIMITS="1",
        METRICS_TOKEN="tok",
    )
    assert "METRICS_TOKEN is not set" not in server.log()
    _assert_json_error(requests.get(f"{server.url}/metrics", timeout=30), 401, "unauthorized")
    scraped = requests.get(f"{server.url}/metrics", headers={"Authorization": "Bearer tok"}, timeout=30)
    assert scraped.status_code == 200 and "ticketing_http_requests" in scraped.text
