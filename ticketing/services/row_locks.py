"""Database row locks (SELECT ... FOR UPDATE) for write transactions, not a customer's hold on a seat.

One order everywhere: the user's row, then an organization, then an event, then orders, then tickets,
then seats by ascending id, so that two transactions never wait on each other in a circle. (Customers' holds and
orders never lock the event's row: only organizers' changes of the event do.) Every helper refuses to run outside
`write_transaction()`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from ..database import require_write_transaction
from ..errors import OrderNotFoundError, UnauthorizedError
from ..models import Event, Order, Organization, Seat, Ticket, User

_SEATS = Seat.__table__
_USERS = User.__table__
_EVENTS = Event.__table__
_ORGANIZATIONS = Organization.__table__
_TICKETS = Ticket.__table__


def select_user_for_update(session: Session, user_id: int) -> None:
    """Lock the user's row, so one user's holds change one transaction at a time (exact limits).

    `FOR NO KEY UPDATE`: it excludes every other writer of the row, but not the `KEY SHARE` lock a
    new ticket's or order's foreign key takes on it, so a user's confirm never deadlocks against the
    same user's lock renewal. A token whose user has been deleted gets `UnauthorizedError`.
    """
    require_write_transaction(session)
    query = select(_USERS.c.id).where(_USERS.c.id == user_id).with_for_update(key_share=True)
    if session.connection().execute(query).first() is None:
        raise UnauthorizedError("Your account no longer exists.")


def select_organization_for_update(session: Session, organization_id: int) -> None:
    """Lock the organization's row (if it exists), so that its memberships change one transaction at a
    time: "is this the last owner?" stays true until COMMIT."""
    require_write_transaction(session)
    query = select(_ORGANIZATIONS.c.id).where(_ORGANIZATIONS.c.id == organization_id).with_for_update()
    session.connection().execute(query)


def select_event_for_update(session: Session, event_id: int) -> Row | None:
    """Lock the event's row (an organizer's change of the event); return it (every column), or None."""
    require_write_transaction(session)
    query = select(_EVENTS).where(_EVENTS.c.id == event_id).with_for_update()
    return session.connection().execute(query).first()


def select_seats_for_update(session: Session, seat_ids: Iterable[int]) -> list[Row]:
    """Lock the seats' rows in ascending id order; return those that exist (every column), by id."""
    require_write_transaction(session)
    ids = sorted(set(seat_ids))
    if not ids:
        return []
    query = select(_SEATS).where(_SEATS.c.id.in_(ids)).order_by(_SEATS.c.id).with_for_update()
    return list(session.connection().execute(query))


def select_ticket_for_update(session: Session, code: str) -> Row | None:
    """Lock the ticket's row (a check-in, a refund's void); return it, or None.

    The row carries what the door shows of the ticket, read in the same round trip: its seat's
    `label`, `section`, `row`, `number`, `price_cents` and `event_id`, the event's `name` and
    `starts_at` (the ticket's own columns keep their names; its id is `id`). Only the ticket's row is
    locked (`OF tickets`), never its seat's or event's: a check-in must not wait on a buyer's hold or
    an organizer's edit. `FOR NO KEY UPDATE` still excludes every other check-in or void of the
    ticket, while the foreign key of the check-in row being inserted (KEY SHARE) does not wait on it.
    """
    require_write_transaction(session)
    query = (
        select(
            _TICKETS,
            _SEATS.c.label,
            _SEATS.c.section,
            _SEATS.c.row,
            _SEATS.c.number,
            _SEATS.c.price_cents,
            _SEATS.c.event_id,
            _EVENTS.c.name,
            _EVENTS.c.starts_at,
        )
        .join(_SEATS, _SEATS.c.id == _TICKETS.c.seat_id)
        .join(_EVENTS, _EVENTS.c.id == _SEATS.c.event_id)
        .where(_TICKETS.c.code == code)
        .with_for_update(of=_TICKETS, key_share=True)
    )
    return session.connection().execute(query).first()


def select_seats_for_update_unless_locked(
    session: Session, seat_ids: Iterable[int], *, free_condition, skip_locked: bool
) -> tuple[set[int], set[int]]:
    """Lock the seats' rows in ascending id order; return (ids where `free_condition` holds, the others).

    With `skip_locked`, rows another transaction has locked are left out at once (in neither set)
    instead of waited for: best available moves on to other seats rather than queue behind a
    competitor taking these.
    """
    require_write_transaction(session)
    query = (
        select(_SEATS.c.id, free_condition)
        .where(_SEATS.c.id.in_(sorted(set(seat_ids))))
        .order_by(_SEATS.c.id)
        .with_for_update(skip_locked=skip_locked)
    )
    free, taken = set(), set()
    for seat_id, is_free in session.connection().execute(query):
        (free if is_free else taken).add(seat_id)
    return free, taken


def select_order_for_update(session: Session, *, order_id: int, user_id: int | None) -> Order:
    """Lock the order's row; another user's order is as absent as a missing one."""
    require_write_transaction(session)
    order = session.scalar(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    )
    if order is None or (user_id is not None and order.user_id != user_id):
        raise OrderNotFoundError()
    return order
