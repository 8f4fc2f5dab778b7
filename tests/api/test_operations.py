"""Health, readiness and the OpenAPI document."""

from __future__ import annotations

import pytest

from ticketing import create_app

from ..databases import base_config
from ..waiting import wait_until

ROUTES = {
    "/auth/register": {"post"},
    "/auth/login": {"post"},
    "/auth/refresh": {"post"},
    "/auth/me": {"get"},
    "/events": {"get"},
    "/events/{event_id}": {"get"},
    "/events/{event_id}/seats": {"get"},
    "/seats": {"get"},
    "/seats/{seat_id}": {"get"},
    "/seats/{seat_id}/lock": {"post", "delete"},
    "/seats/{seat_id}/confirm": {"post"},
    "/lock/{seat_id}": {"post"},
    "/confirm/{seat_id}": {"post"},
    "/lock": {"post"},
    "/confirm": {"post"},
    "/healthz": {"get"},
    "/readyz": {"get"},
}


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok"}


def test_readiness_is_503_when_the_database_is_gone(tmp_path):
    app = create_app(base_config("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["code"] == "database_unavailable"
    assert app.test_client().get("/healthz").status_code == 200
    listed = app.test_client().get("/events")
    assert listed.status_code == 503 and listed.get_json()["code"] == "database_unavailable"


def test_openapi_documents_every_route(client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    for path, methods in ROUTES.items():
        assert path in document["paths"], path
        assert methods <= set(document["paths"][path]), path
    lock = document["paths"]["/seats/{seat_id}/lock"]["post"]
    assert {"bearerAuth": []} in lock["security"]
    assert {"200", "404", "409"} <= set(lock["responses"])
    pay = document["paths"]["/orders/{order_id}/pay"]["post"]
    assert {"200", "402", "404", "409", "502"} <= set(pay["responses"])
    assert any(parameter["name"] == "Idempotency-Key" for parameter in pay["parameters"])
    register = document["paths"]["/auth/register"]["post"]
    assert "400" in register["responses"]


def test_docs_page_renders(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.get_data(as_text=True).lower()


def test_a_pooled_connection_the_server_closed_is_replaced_not_failed(app, api, client, database_url):
    """PostgreSQL terminates the backend of the connection idle in the pool (a restart, an idle
    timeout, an operator's pg_terminate_backend): the next request still succeeds, on a new
    connection, without a ping round trip on every checkout (database._discard_if_closed_by_server)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to close a connection")
    import psycopg
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from ticketing.extensions import db

    user = api.user()
    seat = api.seed(rows="A", per_row=2)["seat_ids"][0]
    with app.app_context():
        pooled = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.remove()  # back to the pool, idle
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (pooled,))
        query = "SELECT count(*) FROM pg_stat_activity WHERE pid = %s"
        wait_until(lambda: other.execute(query, (pooled,)).fetchone()[0] == 0)
    response = client.post(f"/seats/{seat}/lock", headers=user["headers"])
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        assert db.session.execute(text("SELECT pg_backend_pid()")).scalar() != pooled
