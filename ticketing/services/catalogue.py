"""Read-only views of events and seats. Every state is computed at `now`; every read is for a viewer
(a user id, or None for anyone) and shows only the events that viewer may see (services.roles)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from ..extensions import db
from ..models import (
    BLOCKED,
    BOOKED,
    LOCKED,
    Event,
    EventCategory,
    Seat,
    Venue,
    effective_status,
    live_lock,
    status_filter,
)
from . import versions
from .roles import can_see, visible_events


@dataclass(frozen=True)
class CategoryView:
    name: str
    price_cents: int


@dataclass(frozen=True)
class Point:
    x: float
    y: float


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
    blocked: int
    status: str
    sales_start: datetime | None
    sales_end: datetime | None
    venue_id: int | None
    organization_id: int | None
    categories: list[CategoryView]
    no_orphan_seats: bool
    buyer_refunds_until: datetime | None
    focal_point: Point | None = None  # the venue layout's (where the best seats are); None without a venue


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
    section: str
    category: str | None
    accessible: bool
    x: float | None
    y: float | None


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _summaries(now: datetime, viewer_id: int | None, event_id: int | None = None) -> list[EventSummary]:
    events_query = select(Event).where(visible_events(viewer_id)).order_by(Event.id)
    counts_query = select(
        Seat.event_id,
        func.count(Seat.id),
        _count(live_lock(now)),
        _count(Seat.status == BOOKED),
        _count(Seat.status == BLOCKED),
    ).group_by(Seat.event_id)
    categories_query = select(EventCategory).order_by(EventCategory.event_id, EventCategory.position)
    if event_id is not None:
        events_query = events_query.where(Event.id == event_id)
        counts_query = counts_query.where(Seat.event_id == event_id)
        categories_query = categories_query.where(EventCategory.event_id == event_id)
    events = db.session.scalars(events_query).all()
    if not events:
        return []
    if event_id is None:
        visible_ids = select(Event.id).where(visible_events(viewer_id)).scalar_subquery()
        counts_query = counts_query.where(Seat.event_id.in_(visible_ids))
        categories_query = categories_query.where(EventCategory.event_id.in_(visible_ids))
    counts = {row[0]: row[1:] for row in db.session.execute(counts_query)}
    categories: dict[int, list[CategoryView]] = {}
    for category in db.session.scalars(categories_query):
        categories.setdefault(category.event_id, []).append(CategoryView(category.name, category.price_cents))
    focal_points = _focal_points({event.venue_id for event in events if event.venue_id is not None})
    summaries = []
    for event in events:
        total, locked, booked, blocked = counts.get(event.id, (0, 0, 0, 0))
        summaries.append(
            EventSummary(
                id=event.id,
                name=event.name,
                starts_at=event.starts_at,
                currency=event.currency,
                seat_count=total,
                available=total - locked - booked - blocked,
                locked=locked,
                booked=booked,
                blocked=blocked,
                status=event.status,
                sales_start=event.sales_start,
                sales_end=event.sales_end,
                venue_id=event.venue_id,
                organization_id=event.organization_id,
                categories=categories.get(event.id, []),
                no_orphan_seats=event.no_orphan_seats,
                buyer_refunds_until=event.buyer_refunds_until,
                focal_point=focal_points.get(event.venue_id),
            )
        )
    return summaries


def _focal_points(venue_ids: set[int]) -> dict[int, Point]:
    """Each venue's focal point, read out of its stored layout by the database (not the whole layout)."""
    if not venue_ids:
        return {}
    query = select(Venue.id, Venue.layout["focal_point"]).where(Venue.id.in_(venue_ids))
    points = {}
    for venue_id, point in db.session.execute(query):
        if isinstance(point, dict) and point.get("x") is not None and point.get("y") is not None:
            points[venue_id] = Point(float(point["x"]), float(point["y"]))
    return points


def list_events(*, now: datetime, viewer_id: int | None) -> list[EventSummary]:
    """Every event the viewer may see, with its seat counts at `now`, by id."""
    return _summaries(now, viewer_id)


def get_event(*, event_id: int, now: datetime, viewer_id: int | None) -> EventSummary | None:
    """One event with its seat counts at `now`, or None (also when the viewer may not see it)."""
    found = _summaries(now, viewer_id, event_id)
    return found[0] if found else None


def event_is_visible(*, event_id: int, viewer_id: int | None) -> bool:
    """True when the event exists and the viewer may see it."""
    row = db.session.execute(select(Event.status, Event.organization_id).where(Event.id == event_id)).first()
    return row is not None and can_see(
        db.session, user_id=viewer_id, status=row.status, organization_id=row.organization_id
    )


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
    Seat.section,
    Seat.category,
    Seat.accessible,
    Seat.x,
    Seat.y,
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
        section=row.section,
        category=row.category,
        accessible=bool(row.accessible),
        x=row.x,
        y=row.y,
    )


def _seats_query(*, now: datetime, event_id: int | None, status: str | None, viewer_id: int | None):
    """Seats by id of the events the viewer may see (of one event, or all), optionally only those in
    `status` at `now`."""
    query = (
        select(*_SEAT_COLUMNS)
        .where(Seat.event_id.in_(select(Event.id).where(visible_events(viewer_id)).scalar_subquery()))
        .order_by(Seat.id)
    )
    if event_id is not None:
        query = query.where(Seat.event_id == event_id)
    if status is not None:
        query = query.where(status_filter(status, now))
    return query


def list_seats(
    *, now: datetime, viewer_id: int | None, event_id: int | None = None, status: str | None = None
) -> list[SeatView]:
    """Seats by id, of one event or all the viewer may see, optionally only those in `status` at `now`."""
    query = _seats_query(now=now, event_id=event_id, status=status, viewer_id=viewer_id)
    return [seat_view(row, now) for row in db.session.execute(query)]


@dataclass(frozen=True)
class SeatPage:
    seats: list[SeatView]
    next_after: int | None  # the last seat's id when more may follow, else None


def list_seats_page(
    *, now: datetime, viewer_id: int | None, status: str | None, after: int | None, limit: int
) -> SeatPage:
    """Up to `limit` seats of every event the viewer may see with ids above `after`, by id (keyset
    pages: each is one index range, however deep), optionally only those in `status` at `now`."""
    query = _seats_query(now=now, event_id=None, status=status, viewer_id=viewer_id)
    if after is not None:
        query = query.where(Seat.id > after)
    rows = db.session.execute(query.limit(limit + 1)).all()  # one more tells whether a next page exists
    seats = [seat_view(row, now) for row in rows[:limit]]
    return SeatPage(seats=seats, next_after=seats[-1].id if len(rows) > limit else None)


def get_seat(*, seat_id: int, now: datetime, viewer_id: int | None) -> SeatView | None:
    """One seat as it is at `now`, or None (also when the viewer may not see its event)."""
    row = db.session.execute(
        select(*_SEAT_COLUMNS, Event.status.label("event_status"), Event.organization_id)
        .join(Event, Event.id == Seat.event_id)
        .where(Seat.id == seat_id)
    ).first()
    if row is None or not can_see(
        db.session, user_id=viewer_id, status=row.event_status, organization_id=row.organization_id
    ):
        return None
    return seat_view(row, now)


_SEATS = Seat.__table__
_CURSORS = itertools.count()  # names of the map's server-side cursors
# The seat map's columns, in the order controllers.seat_map_json reads them.
_MAP_COLUMNS = tuple(
    _SEATS.c[name]
    for name in (
        "id",
        "label",
        "row",
        "number",
        "price_cents",
        "status",
        "locked_until",
        "order_id",
        "section",
        "category",
        "accessible",
        "x",
        "y",
    )
)


def seat_map_rows(*, event_id: int, status: str | None, now: datetime, chunk_size: int):
    """The event's seats by id as plain rows of the map's columns, in chunks of `chunk_size` read
    from a server-side cursor (memory stays flat however big the event). No ORM, no visibility rule:
    the caller has checked that the viewer may see the event."""
    query = select(*_MAP_COLUMNS).where(_SEATS.c.event_id == event_id).order_by(_SEATS.c.id)
    if status is not None:
        query = query.where(status_filter(status, now))
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # psycopg's own rows, from a named (server-side) cursor in the request's transaction: making
        # SQLAlchemy rows of 100,000 seats takes longer than writing their JSON.
        compiled = query.compile(dialect=connection.dialect)
        cursor_name = f"seat_map_{next(_CURSORS)}"
        with connection.connection.dbapi_connection.cursor(name=cursor_name) as cursor:
            cursor.execute(str(compiled), compiled.params)
            while rows := cursor.fetchmany(chunk_size):
                yield rows
        return
    query = query.execution_options(stream_results=True, max_row_buffer=chunk_size)
    yield from connection.execute(query).partitions(chunk_size)


def viewer_holds(*, event_id: int, viewer_id: int, now: datetime) -> list[tuple[int, datetime]]:
    """(seat id, locked_until) of the event's seats the viewer holds at `now`, by id."""
    query = (
        select(_SEATS.c.id, _SEATS.c.locked_until)
        .where(_SEATS.c.holder_id == viewer_id, _SEATS.c.event_id == event_id, live_lock(now))
        .order_by(_SEATS.c.id)
    )
    return [(row.id, row.locked_until) for row in db.session.execute(query)]


@dataclass(frozen=True)
class MapState:
    version: str
    visible: bool


def map_state(*, event_id: int, now: datetime, viewer_id: int | None) -> MapState | None:
    """The event's seat-map version at `now` (see services.versions) and whether the viewer may see
    the event, in one statement (two for a draft: the viewer's membership); None: no such event."""
    found = versions.map_version(db.session, event_id=event_id, now=now)
    if found is None:
        return None
    version, status, organization_id = found
    visible = can_see(db.session, user_id=viewer_id, status=status, organization_id=organization_id)
    return MapState(version=version, visible=visible)
