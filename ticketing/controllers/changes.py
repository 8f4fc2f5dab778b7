"""`GET /events/<id>/changes`: the seat map's change feed, answered at once or held open (long poll).

A held request waits on the process's feed watcher (ticketing.feed_watch), which looks at every
waited-on event in one query per CHANGES_POLL_MS and wakes the request when its event moved. Under
holding_worker.py (what gunicorn.conf.py runs) the request is held without a thread
(ticketing.holding) and run again when woken; elsewhere it blocks its thread.
"""

from __future__ import annotations

import time
from functools import partial

import orjson
from flask import Response, current_app, request

from .. import holding
from ..clock import current_clock
from ..security import optional_user_id
from ..services import changes


def event_changes(event_id: int, query: dict) -> Response:
    watch = current_app.extensions["feed_watch"]
    address = request.remote_addr
    held = holding.held_state()
    deadline = held["deadline"] if held else time.monotonic() + query["wait"]

    def hold_for_change(event_id: int, *, after: int, deadline: float) -> bool:
        return holding.hold(
            {"deadline": deadline},
            lambda wake: watch.hold(event_id, after=after, deadline=deadline, wake=wake, address=address),
        )

    feed = changes.follow_feed(
        event_id=event_id,
        viewer_id=optional_user_id(),
        since=query.get("since"),
        deadline=deadline,
        clock=current_clock(),
        wait_for_change=partial(watch.wait, address=address),
        hold_for_change=hold_for_change if holding.can_hold() else None,
        # Run again because it was woken: its neighbours in the same wake-up may have read already.
        recent=current_app.extensions["feed_answers"] if held else None,
    )
    if feed is None:
        return holding.held_response()
    body = {"cursor": feed.cursor, "changes": [{"seat_id": c.seat_id, "status": c.status} for c in feed.changes]}
    response = Response(orjson.dumps(body), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
