"""The change feed of an event's seat map: which seats changed after a cursor, and to what.

Reading the feed first writes down the event's holds that ran out (services.expiry), so a hold that
simply runs out reaches every follower as a change to `available`.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class Change:
    seat_id: int
    status: str


@dataclass(frozen=True)
class Feed:
    cursor: int
    changes: list[Change]


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
    wait_seconds: float,
    clock: Callable[[], datetime],
    wait_for_change: WaitForChange,
) -> Feed:
    """Read the feed; with nothing new and `wait_seconds` > 0, wait for a change, then read again.

    While waiting the request holds no transaction and no connection. A draft is a missing event to
    anyone outside its organization.
    """
    if not event_is_visible(event_id=event_id, viewer_id=viewer_id):
        raise EventNotFoundError()
    deadline = time.monotonic() + wait_seconds
    expire_seats_due(event_id=event_id, now=clock())
    while True:
        feed = read_changes(event_id=event_id, since=since, now=clock())
        remaining = deadline - time.monotonic()
        if feed.changes or since is None or remaining <= 0:
            return feed
        db.session.close()  # end the read (SQLite's snapshot too) and give the connection back
        wait_for_change(event_id, after=feed.cursor, timeout=remaining)
