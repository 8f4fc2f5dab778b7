"""Events made by organizers: create one from a venue, edit it, publish and close it, block seats.

Each is one write transaction that reads the caller's role there (services.roles.require_role), so a
manager who was just removed is refused at once. Someone outside the organization meets a draft as a
missing event (404) and an event buyers can see as a forbidden one (403). "Now" is read after the
row locks, as everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..database import insert_rows, write_transaction
from ..errors import (
    EventCancelledError,
    EventNotFoundError,
    ForbiddenError,
    InvalidRequestError,
    SeatNotFoundError,
    SeatsUnavailableError,
    TicketingError,
    VenueNotFoundError,
)
from ..models import (
    AVAILABLE,
    BLOCKED,
    BOOKED,
    CLOSED,
    DRAFT,
    EVENT_CANCELLED,
    LOCKED,
    MANAGER,
    ON_SALE,
    Event,
    EventCategory,
    Seat,
    Venue,
    effective_status,
    utcnow,
)
from . import audit, best_available, catalogue, ledger
from .catalogue import EventSummary
from .layouts import categories_of, lay_out
from .roles import require_role
from .row_locks import select_event_for_update, select_seats_for_update

Clock = Callable[[], datetime]
_SEATS = Seat.__table__

# The fields PATCH /events/<id> may change (None clears the optional times).
EDITABLE = ("name", "starts_at", "sales_start", "sales_end", "no_orphan_seats", "buyer_refunds_until")


@dataclass(frozen=True)
class NewEvent:
    """What an organizer gives to make an event (prices in cents)."""

    name: str
    venue_id: int
    starts_at: datetime
    currency: str
    categories: list[tuple[str, int]]  # (name, price), in the order given
    default_price_cents: int | None
    sales_start: datetime | None
    sales_end: datetime | None
    no_orphan_seats: bool
    buyer_refunds_until: datetime | None


def _times_problems(
    *, starts_at: datetime | None, sales_start: datetime | None, sales_end: datetime | None
) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if sales_start is not None and sales_end is not None and sales_end <= sales_start:
        problems["sales_start"] = ["Must be before sales_end."]
        problems["sales_end"] = ["Must be after sales_start."]
    elif sales_start is not None and starts_at is not None and sales_start >= starts_at:
        problems["sales_start"] = ["Must be before the event starts (starts_at)."]
    return problems


def _category_problems(layout: dict, categories: list[tuple[str, int]]) -> dict[str, list[str]]:
    names = [name for name, _ in categories]
    problems = []
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        problems.append(f"Each category is listed once; listed more than once: {', '.join(repeated)}.")
    used = categories_of(layout)
    unknown = sorted(set(names) - used)
    if unknown:
        problems.append(f"The venue's layout has no seats in the categories {', '.join(unknown)}.")
    unpriced = sorted(used - set(names))
    if unpriced:
        problems.append(f"The venue's layout has seats in the categories {', '.join(unpriced)}: give each a price.")
    return {"categories": problems} if problems else {}


def create_event(*, user_id: int, organization_id: int, event: NewEvent, clock: Clock) -> EventSummary:
    """A draft event of the organization (the caller needs the role manager there) at one of its venues,
    its seats made from the venue's layout in one multi-row INSERT. A seat's price is its category's,
    else `default_price_cents`, else 0; seats blocked in the layout start blocked."""
    with write_transaction() as session:
        require_role(session, user_id=user_id, organization_id=organization_id, role=MANAGER)
        venue = session.get(Venue, event.venue_id)
        if venue is None or venue.organization_id != organization_id:
            raise VenueNotFoundError()
        now = clock()
        problems = _category_problems(venue.layout, event.categories)
        if event.starts_at <= now:
            problems["starts_at"] = ["Must be in the future."]
        problems.update(
            _times_problems(starts_at=event.starts_at, sales_start=event.sales_start, sales_end=event.sales_end)
        )
        if problems:
            raise InvalidRequestError("The event cannot be made as asked.", details=problems)
        row = Event(
            name=event.name,
            starts_at=event.starts_at,
            currency=event.currency,
            organization_id=organization_id,
            venue_id=venue.id,
            status=DRAFT,
            sales_start=event.sales_start,
            sales_end=event.sales_end,
            no_orphan_seats=event.no_orphan_seats,
            buyer_refunds_until=event.buyer_refunds_until,
            created_at=now,
        )
        session.add(row)
        session.flush()
        session.add_all(
            EventCategory(event_id=row.id, name=name, price_cents=price, position=position)
            for position, (name, price) in enumerate(event.categories)
        )
        _insert_seats(session, row.id, venue.layout, dict(event.categories), event.default_price_cents or 0)
        best_available.store_geometry(session, event_id=row.id, venue_id=venue.id)
        audit.record(
            session,
            user_id=user_id,
            action=audit.CREATE_EVENT,
            at=now,
            organization_id=organization_id,
            event_id=row.id,
            details={
                "name": event.name,
                "venue_id": venue.id,
                "starts_at": event.starts_at,
                "currency": event.currency,
                "categories": [{"name": name, "price_cents": price} for name, price in event.categories],
            },
        )
    return _summary(row.id, clock, user_id)


_SEAT_COLUMNS = (
    "event_id",
    "label",
    "row",
    "number",
    "section",
    "category",
    "accessible",
    "x",
    "y",
    "price_cents",
    "status",
    "changed_in",
)


def _insert_seats(session, event_id: int, layout: dict, prices: dict[str, int], default_price_cents: int) -> None:
    """The layout's seats as the event's, in one bulk statement (database.insert_rows: COPY on PostgreSQL)."""
    rows = (
        (
            event_id,
            seat.label,
            seat.row,
            seat.number,
            seat.section,
            seat.category,
            seat.accessible,
            seat.x,
            seat.y,
            default_price_cents if seat.category is None else prices[seat.category],
            BLOCKED if seat.blocked else AVAILABLE,
            0,
        )
        for seat in lay_out(layout)
    )
    insert_rows(session, _SEATS, _SEAT_COLUMNS, rows)


def _summary(event_id: int, clock: Clock, viewer_id: int | None) -> EventSummary:
    summary = catalogue.get_event(event_id=event_id, now=clock(), viewer_id=viewer_id)
    assert summary is not None  # the caller just saw it in its transaction
    return summary


def organizer_event(session, *, user_id: int, event_id: int):
    """Lock the event's row and check the caller manages it; return the row."""
    event = select_event_for_update(session, event_id)
    if event is None:
        raise EventNotFoundError()
    outsider: TicketingError = EventNotFoundError() if event.status == DRAFT else ForbiddenError()
    require_role(session, user_id=user_id, organization_id=event.organization_id, role=MANAGER, outsider=outsider)
    return event


def update_event(*, user_id: int, event_id: int, changes: dict, clock: Clock) -> EventSummary:
    """Change the event's name, times or orphan rule (`changes` holds only what is to change; None
    clears an optional time). A cancelled event cannot change."""
    with write_transaction() as session:
        event = organizer_event(session, user_id=user_id, event_id=event_id)
        if event.status == EVENT_CANCELLED:
            raise EventCancelledError()
        now = clock()
        merged = {name: changes.get(name, getattr(event, name)) for name in ("starts_at", "sales_start", "sales_end")}
        problems = {}
        if "starts_at" in changes and changes["starts_at"] <= now:
            problems["starts_at"] = ["Must be in the future."]
        problems.update(_times_problems(**merged))
        if problems:
            raise InvalidRequestError("The event cannot be changed as asked.", details=problems)
        values = {name: changes[name] for name in EDITABLE if name in changes}
        if values:
            model = session.get(Event, event_id, populate_existing=True)
            for name, value in values.items():
                setattr(model, name, value)
            _audit(session, event, user_id, audit.UPDATE_EVENT, now, {"changes": values})
    return _summary(event_id, clock, user_id)


def set_status(*, user_id: int, event_id: int, status: str, clock: Clock) -> EventSummary:
    """Publish (`on_sale`; a closed event opens again) or close (`closed`) the event; not a cancelled one."""
    assert status in (ON_SALE, CLOSED)
    with write_transaction() as session:
        event = organizer_event(session, user_id=user_id, event_id=event_id)
        if event.status == EVENT_CANCELLED:
            raise EventCancelledError()
        if event.status != status:
            model = session.get(Event, event_id, populate_existing=True)
            model.status = status
            action = audit.PUBLISH_EVENT if status == ON_SALE else audit.CLOSE_EVENT
            _audit(session, event, user_id, action, clock(), {"previous_status": event.status})
    return _summary(event_id, clock, user_id)


def _event_seats_for_update(session, *, event_id: int, seat_ids: list[int]) -> list:
    """Lock the seats' rows; seats of another event are as missing as missing ones."""
    seats = [seat for seat in select_seats_for_update(session, seat_ids) if seat.event_id == event_id]
    missing = sorted(set(seat_ids) - {seat.id for seat in seats})
    if missing:
        raise SeatNotFoundError(f"This event has no seat with id {', '.join(map(str, missing))}.")
    return seats


def _audit(session, event, user_id: int, action: str, at: datetime, details: dict) -> None:
    audit.record(
        session,
        user_id=user_id,
        action=action,
        at=at,
        organization_id=event.organization_id,
        event_id=event.id,
        details=details,
    )


def block_seats(
    *, user_id: int, event_id: int, seat_ids: list[int], clock: Clock, reason: str | None = None
) -> list[int]:
    """Take the seats off sale, all or none: a seat held, in an order or booked refuses them all
    (SeatsUnavailableError listing those). Seats blocked already stay so. Returns the seat ids."""
    with write_transaction() as session:
        event = organizer_event(session, user_id=user_id, event_id=event_id)
        seats = _event_seats_for_update(session, event_id=event_id, seat_ids=seat_ids)
        now = clock()
        taken = [seat.id for seat in seats if effective_status(seat.status, seat.locked_until, now) in (LOCKED, BOOKED)]
        if taken:
            raise SeatsUnavailableError(
                f"Seats {', '.join(map(str, taken))} are held, in an order or booked; nothing was blocked.",
                details={"unavailable": taken},
            )
        ledger.block(session, [seat for seat in seats if seat.status != BLOCKED])
        _audit(session, event, user_id, audit.BLOCK_SEATS, now, {"seat_ids": sorted(seat_ids), "reason": reason})
    return sorted(seat_ids)


def unblock_seats(*, user_id: int, event_id: int, seat_ids: list[int], clock: Clock | None = None) -> list[int]:
    """Put the blocked ones of the seats back on sale; return their ids (the others are left as they are)."""
    with write_transaction() as session:
        event = organizer_event(session, user_id=user_id, event_id=event_id)
        seats = _event_seats_for_update(session, event_id=event_id, seat_ids=seat_ids)
        blocked = [seat for seat in seats if seat.status == BLOCKED]
        ledger.unblock(session, blocked)
        at = clock() if clock is not None else utcnow()
        _audit(session, event, user_id, audit.UNBLOCK_SEATS, at, {"seat_ids": [seat.id for seat in blocked]})
    return [seat.id for seat in blocked]
