"""Database row locks (SELECT ... FOR UPDATE) for write transactions, not a customer's hold on a seat.

One order everywhere: the user's row, then orders, then seats by ascending id, so that two
transactions never wait on each other in a circle. Every helper refuses to run outside
`write_transaction()`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from ..database import require_write_transaction
from ..errors import OrderNotFoundError, UnauthorizedError
from ..models import Order, Seat, User

_SEATS = Seat.__table__
_USERS = User.__table__


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


def select_seats_for_update(session: Session, seat_ids: Iterable[int]) -> list[Row]:
    """Lock the seats' rows in ascending id order; return those that exist (every column), by id."""
    require_write_transaction(session)
    ids = sorted(set(seat_ids))
    if not ids:
        return []
    query = select(_SEATS).where(_SEATS.c.id.in_(ids)).order_by(_SEATS.c.id).with_for_update()
    return list(session.connection().execute(query))


def select_order_for_update(session: Session, *, order_id: int, user_id: int | None) -> Order:
    """Lock the order's row; another user's order is as absent as a missing one."""
    require_write_transaction(session)
    order = session.scalar(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    )
    if order is None or (user_id is not None and order.user_id != user_id):
        raise OrderNotFoundError()
    return order
