"""The change feed of an event's seat map: which seats changed after a cursor, and to what.

The cursor is the event's version (services.versions): versions are handed out in commit order and
every changed seat records the version that changed it, so "the seats with `changed_in > since`" is
complete, whichever worker or host made the change. A lock that runs out changes nothing by itself;
`expire_due` writes it down (as the sweeper would), so that it reaches the feed as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..errors import InvalidRequestError
from ..extensions import db
from ..models import Seat, effective_status
from .holds import expire_holds
from .orders import expire_orders
from .versions import current_version, ran_out_locks

_SEATS = Seat.__table__


@dataclass(frozen=True)
class Change:
    seat_id: int
    status: str


@dataclass(frozen=True)
class Feed:
    cursor: int
    changes: list[Change]


def expire_due(*, event_id: int, now: datetime) -> int:
    """Release the event's locks and orders whose time passed before `now`; return how many seats were freed.

    One indexed count when there is nothing to do (the usual case). The releases re-check every
    row under its lock, so several requests doing this at once free each seat once.
    """
    if not db.session.scalar(ran_out_locks(event_id, now)):
        return 0
    expire_orders(now=now, event_id=event_id)
    return expire_holds(now=now, event_id=event_id)


def read_changes(*, event_id: int, since: int | None, now: datetime) -> Feed | None:
    """The seats of the event changed after `since`, oldest change first, each once with its status at `now`.

    None when there is no such event. `since` left out: the current cursor and no changes.
    """
    cursor = current_version(db.session, event_id)
    if cursor is None:
        return None
    if since is None:
        return Feed(cursor=cursor, changes=[])
    if since > cursor:
        raise InvalidRequestError(
            "This cursor was not handed out by this event's feed; leave `since` out to start again.",
            details={"since": [f"Must be at most the event's current cursor, {cursor}."]},
        )
    rows = db.session.execute(
        select(_SEATS.c.id, _SEATS.c.status, _SEATS.c.locked_until, _SEATS.c.changed_in)
        .where(_SEATS.c.event_id == event_id, _SEATS.c.changed_in > since)
        .order_by(_SEATS.c.changed_in, _SEATS.c.id)
    ).all()
    if rows:
        # On PostgreSQL each statement sees what is committed when it starts: a change committed
        # between the two reads is included, and the cursor moves past it.
        cursor = max(cursor, rows[-1].changed_in)
    changes = [Change(seat_id=row.id, status=effective_status(row.status, row.locked_until, now)) for row in rows]
    return Feed(cursor=cursor, changes=changes)
