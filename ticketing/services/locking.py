"""Row locks for write transactions: one order everywhere (user, then seats by id), so no deadlocks."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import UnauthorizedError
from ..models import LOCKED, Seat, User


def lock_user(session: Session, user_id: int) -> None:
    """Lock the user's row: one user's holds change one transaction at a time (exact limits).

    A token whose user has been deleted gets `UnauthorizedError`.
    """
    users = User.__table__
    if session.connection().execute(select(users.c.id).where(users.c.id == user_id).with_for_update()).first() is None:
        raise UnauthorizedError("Your account no longer exists.")


def lock_seats(session: Session, seat_ids: Iterable[int]) -> list[Seat]:
    """Lock the seats' rows in ascending id order and return the seats that exist, by id."""
    ids = sorted(set(seat_ids))
    if not ids:
        return []
    query = select(Seat).where(Seat.id.in_(ids)).order_by(Seat.id).with_for_update()
    return list(session.scalars(query))


_HELD = Seat.__table__.alias("held")  # built once: an alias makes new Column objects


def live_holds(*, user_id: int, event_id: int, now):
    """A scalar subquery: how many seats of the event the user holds at `now` (locks and pending orders).

    Served by the (holder_id, event_id) index: its cost is the user's holds, not the event's size.
    """
    held = _HELD
    return (
        select(func.count())
        .select_from(held)
        .where(held.c.holder_id == user_id, held.c.event_id == event_id)
        .where(held.c.status == LOCKED, held.c.locked_until > now)
        .scalar_subquery()
    )


def count_live_holds(session: Session, *, user_id: int, event_id: int, now) -> int:
    """How many seats of the event the user holds at `now` (locks and pending orders alike)."""
    return session.scalar(select(live_holds(user_id=user_id, event_id=event_id, now=now))) or 0
