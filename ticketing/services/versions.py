"""Event versions: bumped inside every transaction that changes seats, read for seat-map ETags."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, insert, literal_column, select, update
from sqlalchemy.orm import Session

from ..models import LOCKED, VERSION_SHARDS, Event, EventVersion, Seat

_VERSIONS = EventVersion.__table__
_SEATS = Seat.__table__
_EVENTS = Event.__table__


def create_versions(session: Session, event_id: int) -> None:
    """Give a new event its counter rows."""
    rows = [{"event_id": event_id, "shard": shard, "version": 0} for shard in range(VERSION_SHARDS)]
    session.execute(insert(_VERSIONS), rows)


def seats_changed(session: Session, changes: Iterable[tuple[int, int]]) -> None:
    """Record, in the caller's transaction, that seats changed: `changes` holds (event_id, seat_id) pairs.

    One counter row per event (picked by its lowest seat id), events in ascending order, and always
    after the seat rows: the same lock order everywhere, so this adds no deadlock.
    """
    first_seat: dict[int, int] = {}
    for event_id, seat_id in changes:
        first_seat[event_id] = min(seat_id, first_seat.get(event_id, seat_id))
    connection = session.connection()
    for event_id in sorted(first_seat):
        connection.execute(
            update(_VERSIONS)
            .where(_VERSIONS.c.event_id == event_id, _VERSIONS.c.shard == first_seat[event_id] % VERSION_SHARDS)
            .values(version=_VERSIONS.c.version + 1)
        )


def map_version(session: Session, *, event_id: int, now: datetime) -> str | None:
    """The event's seat-map version at `now`, or None when there is no such event.

    "<event created, in microseconds>.<sum of the counters>.<locks run out but still stored>": the
    sum grows with every committed change, the last part with every lock that expires unseen, so the
    version changes whenever any seat's state does, expiry included, and never repeats; the creation
    time keeps a recreated event (a restored database) from matching an old version.
    """
    ran_out = (
        select(func.count())
        .select_from(_SEATS)
        # a literal 'locked', so that the partial index on locked seats serves prepared statements too
        .where(_SEATS.c.event_id == event_id, _SEATS.c.status == literal_column(f"'{LOCKED}'"))
        .where(_SEATS.c.locked_until <= now)
        .scalar_subquery()
    )
    row = session.execute(
        select(_EVENTS.c.created_at, func.sum(_VERSIONS.c.version), ran_out)
        .join(_VERSIONS, _VERSIONS.c.event_id == _EVENTS.c.id)
        .where(_EVENTS.c.id == event_id)
        .group_by(_EVENTS.c.created_at)
    ).first()
    if row is None:
        return None
    created_at, changes, ran_out_count = row
    return f"{int(created_at.timestamp() * 1_000_000)}.{int(changes)}.{int(ran_out_count)}"
