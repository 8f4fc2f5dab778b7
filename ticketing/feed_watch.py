"""One watcher thread per worker process for every held change-feed request.

A held request (`GET /events/<id>/changes?wait=N`) waits here instead of querying the database
itself. The watcher reads, for all the events that anyone is waiting on, the newest change stamp
below the cursor (services.versions.latest_changes) in one query per CHANGES_POLL_MS, after writing
down any of those events' holds that have run out (services.expiry), then wakes the waiters whose
event has something at or above their cursor. So a thousand open seat maps cost one small query per
worker per interval, not a thousand.

Two ways to wait: `wait` blocks the calling thread (the development server, the test client), and
`hold` takes a callback instead, so that a server able to hold a request without a thread
(holding_worker.py, what gunicorn.conf.py runs) keeps only the connection while it waits. Both count
towards MAX_HELD_FEEDS_PER_ADDRESS, per client address in this process.

The thread starts on the first wait in a process (after gunicorn's fork) and ends after a few idle
seconds, so apps that are built and dropped (tests) leave nothing running.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask

from . import metrics
from .clock import current_time
from .errors import HeldFeedLimitError
from .extensions import db
from .services.changes import RecentAnswers
from .services.expiry import expire_due
from .services.versions import events_with_run_out_holds, latest_changes

log = logging.getLogger(__name__)

_IDLE_SECONDS = 5.0


@dataclass(eq=False)
class _Hold:
    """A request held without a thread: `wake()` once its event moves past `after` or `deadline` passes."""

    event_id: int
    after: int
    deadline: float
    address: str | None
    wake: Callable[[], None]
    done: bool = field(default=False)


class FeedWatch:
    def __init__(self, app: Flask, interval: float, max_per_address: int) -> None:
        self._app = app
        self._interval = interval
        self._max_per_address = max_per_address
        self._changed = threading.Condition()
        self._waiting: Counter[int] = Counter()  # event id -> blocked threads waiting on it
        self._holds: dict[int, list[_Hold]] = {}  # event id -> requests held without a thread
        self._deadlines: list[tuple[float, int, _Hold]] = []  # a heap of the holds' deadlines
        self._order = itertools.count()  # ties in the heap
        self._by_address: Counter[str | None] = Counter()  # client address -> requests waiting
        self._latest: dict[int, int] = {}  # event id -> newest change stamp below the cursor, as last read
        self._timer = threading.Event()  # a hold arrived: the watcher looks at its deadlines again
        self._thread: threading.Thread | None = None

    def wait(self, event_id: int, *, after: int, timeout: float, address: str | None = None) -> bool:
        """Block until the event has a change stamped at or above the cursor `after` (True), or
        `timeout` seconds pass (False). HeldFeedLimitError when the address has too many waiting."""
        deadline = time.monotonic() + timeout
        with self._changed:
            self._take_place(address)
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
                self._give_place(address)

    def hold(
        self, event_id: int, *, after: int, deadline: float, wake: Callable[[], None], address: str | None = None
    ) -> None:
        """Call `wake()` once (from the watcher's thread) when the event has a change stamped at or
        above `after`, or when time.monotonic() reaches `deadline`. Returns at once.
        HeldFeedLimitError when the address has too many waiting."""
        held = _Hold(event_id, after, deadline, address, wake)
        with self._changed:
            self._take_place(address)
            if self._latest.get(event_id, -1) >= after:  # moved already: no need to wait
                self._give_place(address)
                moved = True
            else:
                moved = False
                self._holds.setdefault(event_id, []).append(held)
                heapq.heappush(self._deadlines, (deadline, next(self._order), held))
                self._start_if_needed()
                self._changed.notify_all()
        if moved:
            wake()
        else:
            self._timer.set()

    def waiting_from(self, address: str | None) -> int:
        """How many requests of this client address wait in this process now (held or blocked)."""
        with self._changed:
            return self._by_address[address]

    def _take_place(self, address: str | None) -> None:
        if self._by_address[address] >= self._max_per_address:
            raise HeldFeedLimitError()
        self._by_address[address] += 1
        metrics.record_feed_waiting(1)

    def _give_place(self, address: str | None) -> None:
        self._by_address[address] -= 1
        metrics.record_feed_waiting(-1)
        if not self._by_address[address]:
            del self._by_address[address]

    def _start_if_needed(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="feed-watch", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            with self._changed:
                events = sorted(set(self._waiting) | set(self._holds))
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
                moved = self._take_holds(lambda held: self._latest.get(held.event_id, -1) >= held.after)
            self._wake(moved)
            self._pause(time.monotonic() + self._interval)

    def _pause(self, until: float) -> None:
        """Sleep until the next look, waking the holds whose deadline comes meanwhile on time."""
        while True:
            self._timer.clear()  # before looking: a hold that arrives after this sets it again
            now = time.monotonic()
            with self._changed:
                due = self._take_holds(lambda held, now=now: held.deadline <= now, due_only=True)
                first_deadline = self._deadlines[0][0] if self._deadlines else until
            self._wake(due)
            if now >= until:
                return
            self._timer.wait(max(0.0, min(until, first_deadline) - now))

    def _take_holds(self, ready: Callable[[_Hold], bool], *, due_only: bool = False) -> list[_Hold]:
        """Remove and return the holds that are `ready` (the deadline heap's head only, with `due_only`)."""
        taken: list[_Hold] = []
        if due_only:
            while self._deadlines and (self._deadlines[0][2].done or ready(self._deadlines[0][2])):
                held = heapq.heappop(self._deadlines)[2]
                if not held.done:
                    taken.append(held)
        else:
            for event_id in list(self._holds):
                taken.extend(held for held in self._holds[event_id] if ready(held))
        for held in taken:
            held.done = True
            self._holds[held.event_id].remove(held)
            if not self._holds[held.event_id]:
                del self._holds[held.event_id]
            self._give_place(held.address)
        # Woken holds leave their heap entries behind; drop them when they are most of the heap.
        if len(self._deadlines) > 64 and len(self._deadlines) > 2 * sum(map(len, self._holds.values())):
            self._deadlines = [entry for entry in self._deadlines if not entry[2].done]
            heapq.heapify(self._deadlines)
        return taken

    @staticmethod
    def _wake(holds: list[_Hold]) -> None:
        for held in holds:
            try:
                held.wake()
            except Exception:  # one server callback failing must not stop the others
                log.warning("feed watch: waking a held request failed", exc_info=True)

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
    interval = app.config["CHANGES_POLL_MS"] / 1000
    app.extensions["feed_watch"] = FeedWatch(app, interval, app.config["MAX_HELD_FEEDS_PER_ADDRESS"])
    # Answers shared by the requests one change wakes together; a second is plenty for a burst.
    app.extensions["feed_answers"] = RecentAnswers(max_age=1.0)
