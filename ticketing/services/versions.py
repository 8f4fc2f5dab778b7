"""Event versions: one counter per event, bumped inside every transaction that changes seats.

The counter's row lock is held until COMMIT, so versions are handed out in commit order, and each
changed seat records the version that changed it (`seats.changed_in`). Seat-map ETags read the
counter; the change feed (services.changes) reads the seats changed after a version.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, insert, literal_column, select, update
from sqlalchemy.orm import Session

from ..models import LOCKED, Event, EventVersion, Seat

_VERSIONS = EventVersion.__table__
_SEATS = Seat.__table__
_EVENTS = Event.__table__


def create_versions(session: Session, event_id: int) -> None:
    """Give a new event its counter row."""
    session.execute(insert(_VERSIONS), [{"event_id": event_id, "version": 0}])


def seats_changed(session: Session, changes: Iterable[tuple[int, int]]) -> None:
    """Record, in the caller's transaction, that seats changed: `changes` holds (event_id, seat_id) pairs.

    Call it last, after every seat row is locked and written: the counter rows are taken in
    ascending event order after the seat rows (the same lock order everywhere, so no deadlock),
    and held only from here to COMMIT.
    """
    seats_by_event: dict[int, set[int]] = defaultdict(set)
    for event_id, seat_id in changes:
        seats_by_event[event_id].add(seat_id)
    if not seats_by_event:
        return
    session.flush()  # the seat rows' own changes first, so the counter is held for as short a time as can be
    connection = session.connection()
    for event_id in sorted(seats_by_event):
        version = connection.execute(
            update(_VERSIONS)
            .where(_VERSIONS.c.event_id == event_id)
            .values(version=_VERSIONS.c.version + 1)
            .returning(_VERSIONS.c.version)
        ).scalar_one()
        connection.execute(
            update(_SEATS).where(_SEATS.c.id.in_(sorted(seats_by_event[event_id]))).values(changed_in=version)
        )


def _ran_out(now: datetime) -> tuple:
    """Seats still stored as locked though their time passed before `now` (order locks too: an
    order's seats are locked until its deadline)."""
    # a literal 'locked', so that the partial index on locked seats serves prepared statements too
    return _SEATS.c.status == literal_column(f"'{LOCKED}'"), _SEATS.c.locked_until <= now


def ran_out_locks(event_id: int, now: datetime):
    """A count query: how many of the event's seats are locked though their time has passed."""
    return select(func.count()).select_from(_SEATS).where(_SEATS.c.event_id == event_id, *_ran_out(now))


def events_with_ran_out_locks(session: Session, event_ids: list[int], now: datetime) -> list[int]:
    """Those of the events that have a seat locked though its time has passed."""
    query = select(_SEATS.c.event_id).where(_SEATS.c.event_id.in_(event_ids), *_ran_out(now)).distinct()
    return list(session.scalars(query))


def map_version(session: Session, *, event_id: int, now: datetime) -> str | None:
    """The event's seat-map version at `now`, or None when there is no such event.

    "<event created, in microseconds>.<counter>.<locks run out but still stored>": the counter grows
    with every committed change, the last part with every lock that expires unseen, so the version
    changes whenever any seat's state does, expiry included, and never repeats; the creation time
    keeps a recreated event (a restored database) from matching an old version.
    """
    row = session.execute(
        select(_EVENTS.c.created_at, _VERSIONS.c.version, ran_out_locks(event_id, now).scalar_subquery())
        .join(_VERSIONS, _VERSIONS.c.event_id == _EVENTS.c.id)
        .where(_EVENTS.c.id == event_id)
    ).first()
    if row is None:
        return None
    created_at, changes, ran_out_count = row
    return f"{int(created_at.timestamp() * 1_000_000)}.{int(changes)}.{int(ran_out_count)}"


def current_version(session: Session, event_id: int) -> int | None:
    """The event's counter as committed now, or None when there is no such event."""
    return current_versions(session, [event_id]).get(event_id)


def current_versions(session: Session, event_ids: list[int]) -> dict[int, int]:
    """The counters of those of the events that exist, as committed now."""
    rows = session.execute(select(_VERSIONS.c.event_id, _VERSIONS.c.version).where(_VERSIONS.c.event_id.in_(event_ids)))
    return dict(rows.tuples().all())
