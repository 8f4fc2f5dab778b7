"""`GET /events/<id>/changes`: the seat map's change feed, answered at once or held open (long poll).

A held request gives its database connection back and sleeps on the process's feed watcher
(ticketing.feed_watch), which looks at the counters of every waited-on event in one query per
CHANGES_POLL_MS and wakes the request when its event moved. A held request costs a sleeping thread.
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
    deadline = time.monotonic() + wait
    now = current_time()
    changes.expire_due(event_id=event_id, now=now)
    while True:
        feed = changes.read_changes(event_id=event_id, since=since, now=now)
        if feed is None:
            raise EventNotFoundError()
        remaining = deadline - time.monotonic()
        if feed.changes or since is None or remaining <= 0:
            break
        db.session.close()  # end the read (SQLite's snapshot too) and give the connection back while waiting
        current_app.extensions["feed_watch"].wait(event_id, after=feed.cursor, timeout=remaining)
        now = current_time()
    body = {"cursor": feed.cursor, "changes": [{"seat_id": c.seat_id, "status": c.status} for c in feed.changes]}
    response = Response(orjson.dumps(body), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
