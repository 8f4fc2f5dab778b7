"""Reading change stamps: the change feed's rows, seat-map versions, and what the feed watcher asks.

Writers stamp each seat they change with their transaction's stamp (database.change_stamp); a reader's
cursor (database.snapshot_cursor) is above the stamp of every transaction that has ended and at or
below that of every one still running. "Seats with since <= changed_in < cursor" is therefore every
change committed after `since` was handed out and before this read, whichever worker or host made it,
and nothing still in flight is lost: it will carry a stamp at or above the new cursor.
Each query below is one statement, so its cursor and its rows come from one snapshot.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ..database import snapshot_cursor
from ..models import Event, Seat, run_out_lock

_SEATS = Seat.__table__
_EVENTS = Event.__table__


@dataclass(frozen=True)
class FeedRows:
    cursor: int
    rows: list  # (id, status, locked_until, changed_in), oldest change first


def changed_seats(session: Session, *, event_id: int, since: int | None) -> FeedRows | None:
    """The event's seats changed in [since, cursor), with the cursor; None when there is no such event.

    `since` None: only the cursor.
    """
    cursor = snapshot_cursor(session).label("cursor")
    if since is None:
        row = session.execute(select(cursor).select_from(_EVENTS).where(_EVENTS.c.id == event_id)).first()
        return None if row is None else FeedRows(cursor=int(row.cursor), rows=[])
    joined = _EVENTS.outerjoin(
        _SEATS,
        and_(
            _SEATS.c.event_id == _EVENTS.c.id,
            _SEATS.c.changed_in >= since,
            _SEATS.c.changed_in < snapshot_cursor(session),
        ),
    )
    result = session.execute(
        select(cursor, _SEATS.c.id, _SEATS.c.status, _SEATS.c.locked_until, _SEATS.c.changed_in)
        .select_from(joined)
        .where(_EVENTS.c.id == event_id)
        .order_by(_SEATS.c.changed_in, _SEATS.c.id)
    ).all()
    if not result:
        return None
    return FeedRows(cursor=int(result[0].cursor), rows=[row for row in result if row.id is not None])


def latest_changes(session: Session, event_ids: list[int]) -> dict[int, int]:
    """Per event (of those that exist), the newest stamp below the cursor (-1: none yet).

    A follower whose cursor is `c` has something to read once this is at least `c`.
    """
    newest = (
        select(func.coalesce(func.max(_SEATS.c.changed_in), -1))
        .where(_SEATS.c.event_id == _EVENTS.c.id, _SEATS.c.changed_in < snapshot_cursor(session))
        .scalar_subquery()
    )
    rows = session.execute(select(_EVENTS.c.id, newest).where(_EVENTS.c.id.in_(event_ids)))
    return {event_id: int(latest) for event_id, latest in rows}


def events_with_run_out_holds(session: Session, event_ids: list[int], now: datetime) -> list[int]:
    """Those of the events that have a seat stored as held though its time has passed."""
    query = select(_SEATS.c.event_id).where(_SEATS.c.event_id.in_(event_ids), run_out_lock(now)).distinct()
    return list(session.scalars(query))


def map_version(session: Session, *, event_id: int, now: datetime) -> tuple[str, str, int | None] | None:
    """The event's seat-map version at `now` with the event's status and organization (who may see
    it), or None when there is no such event.

    "<event created, µs>.<newest stamp below the cursor>.<digest of the seats stamped at or above
    it>.<holds run out but still stored>". Every committed change either raises the newest stamp
    below the cursor or changes the (small) set of seats stamped at or above it, and every hold that
    runs out unseen moves the last part, so the version changes whenever any seat's state does and
    never repeats; the creation time keeps a recreated event (a restored database) from matching.
    """
    cursor = snapshot_cursor(session)
    newest_settled = (
        select(func.coalesce(func.max(_SEATS.c.changed_in), -1))
        .where(_SEATS.c.event_id == event_id, _SEATS.c.changed_in < cursor)
        .scalar_subquery()
    )
    run_out = select(func.count()).where(_SEATS.c.event_id == event_id, run_out_lock(now)).scalar_subquery()
    unsettled = _EVENTS.outerjoin(
        _SEATS, and_(_SEATS.c.event_id == _EVENTS.c.id, _SEATS.c.changed_in >= snapshot_cursor(session))
    )
    rows = session.execute(
        select(
            _EVENTS.c.created_at,
            newest_settled,
            run_out,
            _EVENTS.c.status,
            _EVENTS.c.organization_id,
            _SEATS.c.id,
            _SEATS.c.changed_in,
        )
        .select_from(unsettled)
        .where(_EVENTS.c.id == event_id)
        .order_by(_SEATS.c.id)
    ).all()
    if not rows:
        return None
    created_at, newest, run_out_count, status, organization_id = rows[0][:5]
    recent = ",".join(f"{row.id}:{row.changed_in}" for row in rows if row.id is not None)
    digest = hashlib.blake2b(recent.encode(), digest_size=6).hexdigest() if recent else "0"
    version = f"{int(created_at.timestamp() * 1_000_000)}.{int(newest)}.{digest}.{int(run_out_count)}"
    return version, status, organization_id
