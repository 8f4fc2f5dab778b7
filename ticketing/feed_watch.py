"""One watcher thread per worker process for every held change-feed request.

A held request (`GET /events/<id>/changes?wait=N`) waits here on a condition instead of querying
the database itself. The watcher reads, for all the events that anyone is waiting on, the newest
change stamp below the cursor (services.versions.latest_changes) in one query per CHANGES_POLL_MS,
after writing down any of those events' holds that have run out (services.expiry), then wakes the
waiters whose event has something at or above their cursor. So a thousand open seat maps cost one
small query per worker per interval, not a thousand.

The thread starts on the first wait in a process (after gunicorn's fork) and ends after a few idle
seconds, so apps that are built and dropped (tests) leave nothing running.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

from flask import Flask

from .clock import current_time
from .extensions import db
from .services.expiry import expire_due
from .services.versions import events_with_run_out_holds, latest_changes

log = logging.getLogger(__name__)

_IDLE_SECONDS = 5.0


class FeedWatch:
    def __init__(self, app: Flask, interval: float) -> None:
        self._app = app
        self._interval = interval
        self._changed = threading.Condition()
        self._waiting: Counter[int] = Counter()  # event id -> requests waiting on it
        self._latest: dict[int, int] = {}  # event id -> newest change stamp below the cursor, as last read
        self._thread: threading.Thread | None = None

    def wait(self, event_id: int, *, after: int, timeout: float) -> bool:
        """Block until the event has a change stamped at or above the cursor `after` (True), or
        `timeout` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            self._waiting[event_id] += 1
            self._start_if_needed()
            self._changed.notify_all()  # an idle watcher looks again at once
            try:
                while self._latest.get(event_id, -1) < after:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._changed.wait(remaining)
                return True
            finally:
                self._waiting[event_id] -= 1
                if not self._waiting[event_id]:
                    del self._waiting[event_id]

    def _start_if_needed(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="feed-watch", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            with self._changed:
                events = sorted(self._waiting)
                if not events:
                    if time.monotonic() - idle_since > _IDLE_SECONDS:
                        self._thread = None
                        return
                    self._changed.wait(self._interval)
                    continue
            idle_since = time.monotonic()
            try:
                latest = self._look(events)
            except Exception:  # a database hiccup: the waiters time out or the next look succeeds
                log.warning("feed watch: looking at the events' changes failed", exc_info=True)
                latest = {}
            with self._changed:
                self._latest.update(latest)
                self._changed.notify_all()
            time.sleep(self._interval)

    def _look(self, events: list[int]) -> dict[int, int]:
        """Write down the events' run-out holds, then read their newest change stamps."""
        with self._app.app_context():
            try:
                now = current_time()
                for event_id in events_with_run_out_holds(db.session, events, now):
                    expire_due(event_id=event_id, now=now)
                return latest_changes(db.session, events)
            finally:
                db.session.remove()


def init_feed_watch(app: Flask) -> None:
    app.extensions["feed_watch"] = FeedWatch(app, app.config["CHANGES_POLL_MS"] / 1000)
