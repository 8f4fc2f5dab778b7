"""The orphan rule of orders: on an event with `no_orphan_seats`, an order may not leave a seat alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.orm import Session

from ..models import AVAILABLE, Event, Seat, status_filter
from .seat_choice import SeatCandidate, orphans_created

_SEATS = Seat.__table__


def orphaned_seats(
    session: Session, *, event_id: int, seats: Sequence[Row], now: datetime, refuses_orphans: bool | None = None
) -> list[tuple[int, str]]:
    """The free seats (id, label) that taking `seats` would leave alone in the rows they touch, when
    the event refuses orphans; [] otherwise.

    One read of the free seats of the touched rows (not row-locked: two orders committing at once
    may still leave a seat alone between them; the rule is the box office's policy, not a safety
    invariant like one ticket per seat).
    """
    if refuses_orphans is None:  # the caller has not read the event's `no_orphan_seats`
        refuses_orphans = session.scalar(select(Event.no_orphan_seats).where(Event.id == event_id))
    if not refuses_orphans:
        return []
    # Whether a seat is left alone depends on its neighbours and theirs: two numbers either side suffice.
    spans: dict[tuple[str, str], list[int]] = {}
    for seat in seats:
        spans.setdefault((seat.section, seat.row), []).append(seat.number)
    in_rows = or_(
        *(
            and_(
                _SEATS.c.section == section,
                _SEATS.c.row == row,
                _SEATS.c.number.between(min(numbers) - 2, max(numbers) + 2),
            )
            for (section, row), numbers in sorted(spans.items())
        )
    )
    free = session.execute(
        select(_SEATS.c.id, _SEATS.c.label, _SEATS.c.section, _SEATS.c.row, _SEATS.c.number).where(
            _SEATS.c.event_id == event_id, in_rows, status_filter(AVAILABLE, now)
        )
    ).all()
    labels = {seat.id: seat.label for seat in free}
    candidates = [
        SeatCandidate(seat.id, seat.section, seat.row, 0, seat.number, float(seat.number), 0.0)
        for seat in {seat.id: seat for seat in [*free, *seats]}.values()
    ]
    orphans = orphans_created(candidates, [seat.id for seat in seats])
    return [(seat_id, labels[seat_id]) for seat_id in orphans]
