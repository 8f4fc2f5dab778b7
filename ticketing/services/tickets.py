"""A buyer's tickets: what each one is for (event, seat, order, price) and whether it admits.

Reads only. The ticket's door state is worked out in one place (`_details`): today every ticket is
`valid` and nobody has checked in; refunds (void tickets) and check-ins change that function and
the query's columns, not the callers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Event, Seat, Ticket

# Codes are URL-safe base64 (services.seats.new_ticket_code) and fit the column: anything else
# cannot be a ticket, and is answered without asking the database (NUL bytes and all).
_CODE = re.compile(r"[A-Za-z0-9_-]{1,40}")


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
    checked_in_at: datetime | None


_COLUMNS = (
    Ticket.id,
    Ticket.code,
    Ticket.user_id,
    Ticket.order_id,
    Ticket.status,
    Seat.id.label("seat_id"),
    Seat.label,
    Seat.row,
    Seat.number,
    Seat.price_cents,  # seat prices are fixed when the event is made: what the buyer paid
    Event.id.label("event_id"),
    Event.name,
    Event.starts_at,
)


def _query():
    return select(*_COLUMNS).join(Seat, Seat.id == Ticket.seat_id).join(Event, Event.id == Seat.event_id)


def _details(row) -> TicketDetails:
    return TicketDetails(
        code=row.code,
        status=row.status,  # void once refunded (or its event cancelled)
        order_id=row.order_id,
        seat_id=row.seat_id,
        label=row.label,
        section="",  # venues with sections come with layouts
        row=row.row,
        number=row.number,
        price_cents=row.price_cents,
        event_id=row.event_id,
        event_name=row.name,
        event_starts_at=row.starts_at,
        checked_in_at=None,  # nobody checks in yet
    )


def list_tickets(*, user_id: int) -> list[TicketDetails]:
    """The user's tickets of every event, newest purchase first; one purchase's tickets by seat."""
    rows = db.session.execute(_query().where(Ticket.user_id == user_id).order_by(Ticket.id.desc())).all()
    # A purchase (an order, or one confirmed free seat) is as new as its newest ticket.
    newest: dict[object, int] = {}
    for row in rows:
        newest.setdefault(_purchase(row), row.id)
    rows.sort(key=lambda row: (-newest[_purchase(row)], row.seat_id))
    return [_details(row) for row in rows]


def _purchase(row) -> tuple[str, int]:
    return ("order", row.order_id) if row.order_id is not None else ("ticket", row.id)


def get_ticket(*, code: str, viewer_id: int) -> TicketDetails | None:
    """The ticket with this code if the viewer may see it (its holder), else None."""
    if not _CODE.fullmatch(code):
        return None
    row = db.session.execute(_query().where(Ticket.code == code)).first()
    # The event's staff may see it too once organizations and roles exist; anyone else learns nothing.
    if row is None or row.user_id != viewer_id:
        return None
    return _details(row)
