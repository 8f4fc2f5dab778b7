"""Whether an event sells right now, decided inside the write transaction that holds or orders its seats.

The event's row is read (not locked) after the seats' row locks and the clock: holds and orders of
one event never queue on its row. An organizer's close that commits while a hold is being decided
lets that one hold through, as if it had come a moment earlier.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import EventNotOnSaleError, TicketingError
from ..models import Event, is_on_sale
from .roles import can_see

_EVENTS = Event.__table__


def require_visible(session: Session, *, event_id: int, user_id: int, hidden: TicketingError):
    """The event's sales columns (and its `currency` and `no_orphan_seats`, which an order needs too);
    raise `hidden` when the user may not see the event at all (a draft of an organization they are not in)."""
    event = session.execute(
        select(
            _EVENTS.c.status,
            _EVENTS.c.organization_id,
            _EVENTS.c.sales_start,
            _EVENTS.c.sales_end,
            _EVENTS.c.starts_at,
            _EVENTS.c.currency,
            _EVENTS.c.no_orphan_seats,
        ).where(_EVENTS.c.id == event_id)
    ).one()
    if not can_see(session, user_id=user_id, status=event.status, organization_id=event.organization_id):
        raise hidden
    return event


def require_on_sale(session: Session, *, event_id: int, user_id: int, now: datetime, hidden: TicketingError):
    """Raise `hidden` when the user may not even see the event (a draft of another organization),
    EventNotOnSaleError when it does not sell at `now` (not on sale, outside its sales window, started);
    return the event's columns that `require_visible` reads."""
    event = require_visible(session, event_id=event_id, user_id=user_id, hidden=hidden)
    require_on_sale_row(session, event, user_id=user_id, now=now, hidden=hidden, visible=True)
    return event


def require_on_sale_row(
    session: Session, event, *, user_id: int, now: datetime, hidden: TicketingError, visible: bool = False
) -> None:
    """`require_on_sale` for an event row the caller has read already (its `status`,
    `organization_id`, `sales_start`, `sales_end` and `starts_at`): the lock's one snapshot read
    carries them beside the seat's columns."""
    if not visible and not can_see(
        session, user_id=user_id, status=event.status, organization_id=event.organization_id
    ):
        raise hidden
    if not is_on_sale(
        event.status, sales_start=event.sales_start, sales_end=event.sales_end, starts_at=event.starts_at, now=now
    ):
        raise EventNotOnSaleError(_why_not(event, now))


def _why_not(event, now: datetime) -> str:
    if event.status != "on_sale":
        return f"This event is not on sale (it is {event.status.replace('_', ' ')})."
    if event.sales_start is not None and now < event.sales_start:
        return "Sales for this event have not started yet."
    if event.starts_at is not None and now >= event.starts_at:
        return "This event has already started."
    return "Sales for this event have ended."
