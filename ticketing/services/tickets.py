"""Tickets: what each one is for (event, seat, order, price), whether it admits, and where it stands at
the door.

Reads only. A ticket's door state comes from its check-ins (`door_states`, folded by
`models.checkin.door_state`); its `status` (valid / void) from its row. Its holder sees it, and so does
the staff of the event's organization (any role, `door` included).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import (
    DOOR,
    MOVEMENTS,
    OUTSIDE,
    Checkin,
    DoorState,
    Event,
    Movement,
    Seat,
    Ticket,
    door_state,
    role_includes,
)
from .roles import member_role

# Codes are URL-safe base64 (services.seats.new_ticket_code) and fit the column: anything else
# cannot be a ticket, and is answered without asking the database (NUL bytes and all).
CODE = re.compile(r"[A-Za-z0-9_-]{1,40}")


@dataclass(frozen=True)
class TicketDetails:
    code: str
    status: str  # models.ticket: valid or void
    order_id: int | None  # None for a free seat confirmed without an order
    seat_id: int
    label: str
    section: str  # "" where the venue has no sections
    row: str
    number: int
    price_cents: int
    event_id: int
    event_name: str
    event_starts_at: datetime | None
    checked_in_at: datetime | None  # the latest admission (None: never admitted)


_COLUMNS = (
    Ticket.id,
    Ticket.code,
    Ticket.status,
    Ticket.user_id,
    Ticket.order_id,
    Ticket.status,
    Seat.id.label("seat_id"),
    Seat.label,
    Seat.section,
    Seat.row,
    Seat.number,
    Seat.price_cents,  # seat prices are fixed when the event is made: what the buyer paid
    Event.id.label("event_id"),
    Event.name,
    Event.starts_at,
    Event.organization_id,
)


def _query():
    return select(*_COLUMNS).join(Seat, Seat.id == Ticket.seat_id).join(Event, Event.id == Seat.event_id)


def movement_time(*, forced: bool, scanned_at: datetime, recorded_at: datetime) -> datetime:
    """When a scan counts for: a forced upload when the door scanned it (offline), any other when the
    server recorded it (a door's clock may be wrong; the order of decisions is the server's anyway)."""
    return scanned_at if forced else recorded_at


_MOVEMENT_COLUMNS = (
    Checkin.ticket_id,
    Checkin.result,
    Checkin.gate,
    Checkin.forced,
    Checkin.scanned_at,
    Checkin.recorded_at,
)


def _fold(rows) -> dict[int, DoorState]:
    movements: dict[int, list[Movement]] = defaultdict(list)
    for row in rows:
        at = movement_time(forced=row.forced, scanned_at=row.scanned_at, recorded_at=row.recorded_at)
        movements[row.ticket_id].append(Movement(result=row.result, at=at, gate=row.gate))
    return {ticket_id: door_state(moves) for ticket_id, moves in movements.items()}


def door_states(session: Session, ticket_ids: Iterable[int]) -> dict[int, DoorState]:
    """Where each ticket stands at the door (tickets without a movement are left out: OUTSIDE)."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(*_MOVEMENT_COLUMNS)
        .where(Checkin.ticket_id.in_(ids), Checkin.result.in_(MOVEMENTS))
        .order_by(Checkin.ticket_id, Checkin.id)
    )
    return _fold(rows)


def event_door_states(session: Session, event_id: int) -> dict[int, DoorState]:
    """Where every ticket of the event stands at the door, in one read of its movements."""
    rows = session.execute(
        select(*_MOVEMENT_COLUMNS)
        .where(Checkin.event_id == event_id, Checkin.result.in_(MOVEMENTS), Checkin.ticket_id.is_not(None))
        .order_by(Checkin.id)
    )
    return _fold(rows)


def _details(row, state: DoorState) -> TicketDetails:
    return TicketDetails(
        code=row.code,
        status=row.status,  # void once refunded (or its event cancelled)
        order_id=row.order_id,
        seat_id=row.seat_id,
        label=row.label,
        section=row.section,
        row=row.row,
        number=row.number,
        price_cents=row.price_cents,
        event_id=row.event_id,
        event_name=row.name,
        event_starts_at=row.starts_at,
        checked_in_at=state.checked_in_at,
    )


def list_tickets(*, user_id: int) -> list[TicketDetails]:
    """The user's tickets of every event, newest purchase first; one purchase's tickets by seat."""
    session = db.session
    rows = session.execute(_query().where(Ticket.user_id == user_id).order_by(Ticket.id.desc())).all()
    # A purchase (an order, or one confirmed free seat) is as new as its newest ticket.
    newest: dict[object, int] = {}
    for row in rows:
        newest.setdefault(_purchase(row), row.id)
    rows.sort(key=lambda row: (-newest[_purchase(row)], row.seat_id))
    states = door_states(session, (row.id for row in rows))
    return [_details(row, states.get(row.id, OUTSIDE)) for row in rows]


def _purchase(row) -> tuple[str, int]:
    return ("order", row.order_id) if row.order_id is not None else ("ticket", row.id)


def is_staff(session: Session, *, user_id: int, organization_id: int | None) -> bool:
    """True when the user has a role (door or more) in the organization that runs the event."""
    return role_includes(member_role(session, user_id=user_id, organization_id=organization_id), DOOR)


def get_ticket(*, code: str, viewer_id: int) -> TicketDetails | None:
    """The ticket with this code if the viewer may see it (its holder, or the event's staff), else None:
    anyone else learns nothing, not even that the code exists."""
    if not CODE.fullmatch(code):
        return None
    session = db.session
    row = session.execute(_query().where(Ticket.code == code)).first()
    if row is None:
        return None
    if row.user_id != viewer_id and not is_staff(session, user_id=viewer_id, organization_id=row.organization_id):
        return None
    return _details(row, door_states(session, [row.id]).get(row.id, OUTSIDE))


def details_of(row, state: DoorState) -> TicketDetails:
    """A ticket from a row with the columns of `_query()` (the check-in's row lock reads them), standing
    where the caller worked out it stands."""
    return _details(row, state)
