"""The change feed of an event's seat map: which seats changed after a cursor, and to what.

Reading the feed first writes down the event's holds that ran out (services.expiry), so a hold that
simply runs out reaches every follower as a change to `available`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..errors import EventNotFoundError, InvalidRequestError
from ..extensions import db
from ..models import effective_status
from . import versions
from .catalogue import event_is_visible
from .expiry import expire_seats_due

# Blocks until the event may have changes for a follower at `after`, or `timeout` seconds pass.
WaitForChange = Callable[..., bool]
# Hands the wait to the server instead: True when the request will be run again once the event may
# have changes for a follower at `after` or time.monotonic() reaches `deadline`; False: answer now.
HoldForChange = Callable[..., bool]


@dataclass(frozen=True)
class Change:
    seat_id: int
    status: str


@dataclass(frozen=True)
class Feed:
    cursor: int
    changes: list[Change]


class RecentAnswers:
    """The feed's non-empty answers of the last moment, per (event, since).

    One change wakes every request held on its event at once, and most of them ask with the same
    `since` (they were answered together last time): the first reads the database, the others take
    its answer. That answer is a valid one for them (its cursor covers exactly its changes; anything
    later comes on their next poll), so a thousand woken requests cost one read, not a thousand.
    """

    def __init__(self, max_age: float) -> None:
        self._max_age = max_age
        self._answers: dict[tuple[int, int | None], tuple[float, Feed]] = {}
        self._lock = threading.Lock()

    def get(self, event_id: int, since: int | None) -> Feed | None:
        """The answer read for this event and cursor within the last `max_age` seconds, if any."""
        with self._lock:
            found = self._answers.get((event_id, since))
        return found[1] if found and time.monotonic() - found[0] <= self._max_age else None

    def put(self, event_id: int, since: int | None, feed: Feed) -> None:
        """Keep a non-empty answer for the requests woken with this one."""
        if not feed.changes:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._answers) >= 1024:  # old answers go first; a flood of cursors cannot grow it
                self._answers = {key: kept for key, kept in self._answers.items() if now - kept[0] <= self._max_age}
                if len(self._answers) >= 1024:
                    self._answers.clear()
            self._answers[(event_id, since)] = (now, feed)


def read_changes(*, event_id: int, since: int | None, now: datetime) -> Feed:
    """The seats of the event changed after `since`, oldest change first, each once with its status at `now`.

    `since` left out: the current cursor and no changes.
    """
    found = versions.changed_seats(db.session, event_id=event_id, since=since)
    if found is None:
        raise EventNotFoundError()
    if since is not None and since > found.cursor:
        raise InvalidRequestError(
            "This cursor was not handed out by this event's feed; leave `since` out to start again.",
            details={"since": [f"Must be at most the event's current cursor, {found.cursor}."]},
        )
    changes = [Change(seat_id=row.id, status=effective_status(row.status, row.locked_until, now)) for row in found.rows]
    return Feed(cursor=found.cursor, changes=changes)


def follow_feed(
    *,
    event_id: int,
    viewer_id: int | None,
    since: int | None,
    deadline: float,
    clock: Callable[[], datetime],
    wait_for_change: WaitForChange,
    hold_for_change: HoldForChange | None = None,
    recent: RecentAnswers | None = None,
) -> Feed | None:
    """Read the feed; with nothing new before `deadline` (time.monotonic()), wait for a change, then
    read again.

    With `hold_for_change`, the wait is handed to the server and None is returned: the request is
    run again later (with the same `deadline`). With `recent` (a request run again because its event
    moved), an answer read for the same cursor a moment ago does instead of a read. While waiting
    the request holds no transaction and no connection. A draft is a missing event to anyone outside
    its organization (checked before a shared answer is used).
    """
    if not event_is_visible(event_id=event_id, viewer_id=viewer_id):
        raise EventNotFoundError()
    shared = recent.get(event_id, since) if recent is not None else None
    if shared is not None:
        return shared
    expire_seats_due(event_id=event_id, now=clock())
    while True:
        feed = read_changes(event_id=event_id, since=since, now=clock())
        if recent is not None:
            recent.put(event_id, since, feed)
        remaining = deadline - time.monotonic()
        if feed.changes or since is None or remaining <= 0:
            return feed
        db.session.close()  # end the read (SQLite's snapshot too) and give the connection back
        if hold_for_change is not None:
            return None if hold_for_change(event_id, after=feed.cursor, deadline=deadline) else feed
        wait_for_change(event_id, after=feed.cursor, timeout=remaining)
