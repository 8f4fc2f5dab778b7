"""`GET /events/<id>/changes`: the seat map's change feed, answered at once or held open (long poll).

A waiting request looks at the database every CHANGES_POLL_MS and gives its connection back to the
pool between looks, so a held request costs a sleeping thread, not a database connection.
"""

from __future__ import annotations

import time

import orjson
from flask import Response, current_app

from ..clock import current_time
from ..errors import EventNotFoundError
from ..extensions import db
from ..services import changes


def event_changes(event_id: int, query: dict) -> Response:
    since, wait = query.get("since"), query["wait"]
    poll_seconds = current_app.config["CHANGES_POLL_MS"] / 1000
    deadline = time.monotonic() + wait
    while True:
        now = current_time()
        changes.expire_due(event_id=event_id, now=now)
        feed = changes.read_changes(event_id=event_id, since=since, now=now)
        if feed is None:
            raise EventNotFoundError()
        remaining = deadline - time.monotonic()
        if feed.changes or since is None or remaining <= 0:
            break
        db.session.close()  # end the read (SQLite's snapshot too) and give the connection back while waiting
        time.sleep(min(poll_seconds, remaining))
    body = {"cursor": feed.cursor, "changes": [{"seat_id": c.seat_id, "status": c.status} for c in feed.changes]}
    response = Response(orjson.dumps(body), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
