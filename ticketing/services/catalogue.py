"""Read-only views of events and seats. Every state is computed at `now`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from ..extensions import db
from ..models import BOOKED, LOCKED, Event, Seat, effective_status, live_lock, status_filter
from . import versions

_booked = func.coalesce(func.sum(case((Seat.status == BOOKED, 1), else_=0)), 0)


@dataclass(frozen=True)
class EventSummary:
    id: int
    name: str
    starts_at: datetime | None
    currency: str
    seat_count: int
    available: int
    locked: int
    booked: int


@dataclass(frozen=True)
class SeatView:
    id: int
    event_id: int
    label: str
    row: str
    number: int
    price_cents: int
    status: str
    holder_id: int | None
    locked_until: datetime | None
    order_id: int | None  # the pending order whose checkout holds the seat (live holds only)


def _summaries(now: datetime, event_id: int | None = None) -> list[EventSummary]:
    locked = func.coalesce(func.sum(case((live_lock(now), 1), else_=0)), 0)
    query = (
        select(Event.id, Event.name, Event.starts_at, Event.currency, func.count(Seat.id), locked, _booked)
        .outerjoin(Seat, Seat.event_id == Event.id)
        .group_by(Event.id, Event.name, Event.starts_at, Event.currency)
        .order_by(Event.id)
    )
    if event_id is not None:
        query = query.where(Event.id == event_id)
    summaries = []
    for id_, name, starts_at, currency, total, locked_count, booked_count in db.session.execute(query):
        summaries.append(
            EventSummary(
                id=id_,
                name=name,
                starts_at=starts_at,
                currency=currency,
                seat_count=total,
                available=total - locked_count - booked_count,
                locked=locked_count,
                booked=booked_count,
            )
        )
    return summaries


def list_events(*, now: datetime) -> list[EventSummary]:
    """Every event with its seat counts at `now`, by id."""
    return _summaries(now)


def get_event(*, event_id: int, now: datetime) -> EventSummary | None:
    """One event with its seat counts at `now`, or None."""
    found = _summaries(now, event_id)
    return found[0] if found else None


_SEAT_COLUMNS = (
    Seat.id,
    Seat.event_id,
    Seat.label,
    Seat.row,
    Seat.number,
    Seat.price_cents,
    Seat.status,
    Seat.holder_id,
    Seat.locked_until,
    Seat.order_id,
)


def seat_view(row, now: datetime) -> SeatView:
    """A seat row as it is at `now` (an expired lock shows no holder)."""
    status = effective_status(row.status, row.locked_until, now)
    live = status == LOCKED
    return SeatView(
        id=row.id,
        event_id=row.event_id,
        label=row.label,
        row=row.row,
        number=row.number,
        price_cents=row.price_cents,
        status=status,
        holder_id=row.holder_id if live else None,
        locked_until=row.locked_until if live else None,
        order_id=row.order_id if live else None,
    )


def _seats_query(*, now: datetime, event_id: int | None, status: str | None):
    """Seats by id, of one event or all, optionally only those in `status` at `now`."""
    query = select(*_SEAT_COLUMNS).order_by(Seat.id)
    if event_id is not None:
        query = query.where(Seat.event_id == event_id)
    if status is not None:
        query = query.where(status_filter(status, now))
    return query


def list_seats(*, now: datetime, event_id: int | None = None, status: str | None = None) -> list[SeatView]:
    """Seats by id, of one event or all, optionally only those in `status` at `now`."""
    query = _seats_query(now=now, event_id=event_id, status=status)
    return [seat_view(row, now) for row in db.session.execute(query)]


@dataclass(frozen=True)
class SeatPage:
    seats: list[SeatView]
    next_after: int | None  # the last seat's id when more may follow, else None


def list_seats_page(*, now: datetime, status: str | None, after: int | None, limit: int) -> SeatPage:
    """Up to `limit` seats of every event with ids above `after`, by id (keyset pages: each is one
    index range, however deep), optionally only those in `status` at `now`."""
    query = _seats_query(now=now, event_id=None, status=status)
    if after is not None:
        query = query.where(Seat.id > after)
    rows = db.session.execute(query.limit(limit + 1)).all()  # one more tells whether a next page exists
    seats = [seat_view(row, now) for row in rows[:limit]]
    return SeatPage(seats=seats, next_after=seats[-1].id if len(rows) > limit else None)


def get_seat(*, seat_id: int, now: datetime) -> SeatView | None:
    """One seat as it is at `now`, or None."""
    row = db.session.execute(select(*_SEAT_COLUMNS).where(Seat.id == seat_id)).first()
    return seat_view(row, now) if row is not None else None


def seat_map_rows(*, event_id: int, status: str | None, now: datetime, chunk_size: int):
    """The event's seats by id as plain rows (the seat view's columns, as stored), in chunks of
    `chunk_size`: memory stays flat however big the event."""
    query = _seats_query(now=now, event_id=event_id, status=status)
    result = db.session.execute(query.execution_options(yield_per=chunk_size))
    yield from result.partitions()


def map_version(*, event_id: int, now: datetime) -> str | None:
    """The event's seat-map version at `now` (see services.versions), or None for no such event."""
    return versions.map_version(db.session, event_id=event_id, now=now)
