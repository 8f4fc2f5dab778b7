"""The change feed on PostgreSQL waits only for its own database's transactions."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import make_url


def test_a_transaction_left_open_in_another_database_does_not_hold_the_feed_back(api, client, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one database per file: nothing else can hold its feed back")
    event = api.seed(rows="A", per_row=2)
    user = api.user()
    other = make_url(database_url).set(database="postgres", drivername="postgresql")
    with psycopg.connect(other.render_as_string(hide_password=False)) as elsewhere:
        elsewhere.execute("SELECT pg_current_xact_id()")  # a write transaction, open until the end
        cursor = client.get(f"/events/{event['id']}/changes").get_json()["cursor"]
        assert client.post(f"/seats/{event['seat_ids'][0]}/lock", headers=user["headers"]).status_code == 200
        feed = client.get(f"/events/{event['id']}/changes?since={cursor}").get_json()
        assert feed["changes"] == [{"seat_id": event["seat_ids"][0], "status": "locked"}]
        assert feed["cursor"] > cursor
        elsewhere.rollback()
