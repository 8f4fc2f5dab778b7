"""`GET /events/<id>/changes`: the seat map's change feed, answered at once or held open (long poll).

A held request sleeps on the process's feed watcher (ticketing.feed_watch), which looks at every
waited-on event in one query per CHANGES_POLL_MS and wakes the request when its event moved.
"""

from __future__ import annotations

import orjson
from flask import Response, current_app

from ..clock import current_clock
from ..security import optional_user_id
from ..services import changes


def event_changes(event_id: int, query: dict) -> Response:
    feed = changes.follow_feed(
        event_id=event_id,
        viewer_id=optional_user_id(),
        since=query.get("since"),
        wait_seconds=query["wait"],
        clock=current_clock(),
        wait_for_change=current_app.extensions["feed_watch"].wait,
    )
    body = {"cursor": feed.cursor, "changes": [{"seat_id": c.seat_id, "status": c.status} for c in feed.changes]}
    response = Response(orjson.dumps(body), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
