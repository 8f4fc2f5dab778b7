"""Best available: choose the seats a buyer asked for (services.seat_choice) and hold them, under contention.

One write transaction per request, which never locks the event, nor any seat while it chooses:

1. the user's row is locked (row_locks: the user first), so the per-user limit is exact;
2. one indexed read of the event's free seats: the candidates (no row lock);
3. the block is chosen in Python (`seat_choice.choose_seats`);
4. inside a savepoint, the chosen seats' rows are locked in ascending id order with SKIP LOCKED,
   keeping only those still free: a seat another request is taking right now is passed over at
   once (the choice is made again from the same read without it), and a seat a competitor took
   since the read makes the seats be read again;
5. the ledger's conditional UPDATE (`ledger.hold_free`) holds the block, all of it or none.

At most `ATTEMPTS` choices, then `503 busy`. Seats passed over may yet come free (a competitor's
attempt rolled back): before answering `no_seats_available` because of them, the seats are read
again and locks are waited for (bounded by `lock_timeout`). SQLite serialises writers (BEGIN
IMMEDIATE), so there the first choice always holds. docs/best-available.md tells the whole story.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from .. import metrics
from ..database import write_transaction
from ..errors import BusyError, EventNotFoundError, HoldLimitReachedError, NoSeatsAvailableError
from ..models import AVAILABLE, Event, Seat, Venue, status_filter
from . import ledger
from .catalogue import SeatView, seat_view
from .ledger import HoldLimits
from .row_locks import select_seats_for_update_unless_locked, select_user_for_update
from .sales import require_on_sale
from .seat_choice import (
    STEP_APART,
    SeatCandidate,
    SeatRequest,
    choose_seats_nearest_first,
    orphans_created,
    row_bound,
)

Clock = Callable[[], datetime]
ATTEMPTS = 48  # choices per request before `503 busy` (each one lost to a competitor)
BATCH_SEATS = 2_000  # seats of layout (free or not) in the first read of the nearest rows

_SEATS = Seat.__table__
_EVENTS = Event.__table__


@dataclass(frozen=True)
class Geometry:
    """What never changes about an event's seats: the focal point and each row's index in its section.

    `laid_out`: the seats carry x/y (events made from a venue). Seats of `seed-seats` events have none:
    there a seat's x is its number and y its row's index (A = 0), and the focal point is the middle
    of the first row, as a venue's default.
    """

    focal_point: tuple[float, float]
    row_index: dict[tuple[str, str], int]
    laid_out: bool
    # Every row as (bound, section, row, seats in the layout), nearest bound first: a row's bound is
    # the distance from the focal point to the box around all its seats (seat_choice.row_bound), so
    # no block of the row is nearer, whatever is free.
    rows: tuple[tuple[float, str, str, int], ...] = ()


class GeometryCache:
    """Events' geometries, per worker process (static data: the seats' places never change)."""

    def __init__(self, size: int = 64) -> None:
        self._size, self._lock, self._items = size, threading.Lock(), OrderedDict()

    def get(self, key) -> Geometry | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key, geometry: Geometry) -> None:
        with self._lock:
            self._items[key] = geometry
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


@dataclass(frozen=True)
class HeldBlock:
    seats: list[SeatView]
    locked_until: datetime
    step: int


def hold_best_available(
    *,
    user_id: int,
    event_id: int,
    request: SeatRequest,
    clock: Clock,
    hold_seconds: int,
    limits: HoldLimits,
    cache: GeometryCache | None = None,
) -> HeldBlock:
    """Choose the best seats for `request` by the contract's steps and hold them for the user, or raise.

    NoSeatsAvailableError when nothing fits; HoldLimitReachedError when the seats would take the user
    (or their address) past the limit; EventNotFoundError / EventNotOnSaleError as for a lock; BusyError
    after `ATTEMPTS` choices that competitors took first.
    """
    with write_transaction() as session:
        select_user_for_update(session, user_id)
        now = clock()
        event = session.execute(
            select(_EVENTS.c.venue_id, _EVENTS.c.no_orphan_seats).where(_EVENTS.c.id == event_id)
        ).first()
        if event is None:
            raise EventNotFoundError()
        require_on_sale(session, event_id=event_id, user_id=user_id, now=now, hidden=EventNotFoundError())
        _check_limits(session, user_id=user_id, event_id=event_id, count=request.count, now=now, limits=limits)
        geometry = cache.get(event_id) if cache is not None else None
        if geometry is None:
            geometry = _geometry(session, event_id=event_id, venue_id=event.venue_id)
            if cache is not None:
                cache.put(event_id, geometry)
        until = now + timedelta(seconds=hold_seconds)
        choice, held = _choose_and_hold(
            session,
            event_id=event_id,
            user_id=user_id,
            request=request,
            geometry=geometry,
            no_orphans=bool(event.no_orphan_seats),
            now=now,
            until=until,
            limits=limits,
        )
    metrics.record_seat_lock(renewed=False)
    return HeldBlock(seats=[seat_view(seat, now) for seat in held], locked_until=until, step=choice.step)


def _choose_and_hold(
    session: Session,
    *,
    event_id: int,
    user_id: int,
    request: SeatRequest,
    geometry: Geometry,
    no_orphans: bool,
    now: datetime,
    until: datetime,
    limits: HoldLimits,
):
    """Choose from the free seats (read nearest rows first) and hold the block, choosing again while
    competitors win.

    The chosen rows are locked with SKIP LOCKED and only if still free: a seat another request is
    taking right now, or took since the read, is passed over at once and the choice made again from
    the rows already read without it (no wait; a seat found taken makes the rows be read again).
    Passed-over seats may yet come free (a competitor's attempt that rolled back), so before answering
    `no_seats_available` because of them the seats are read again and locks are waited for (bounded
    by `lock_timeout`), which tells taken from free.
    """
    free = _FreeRows(session, event_id=event_id, geometry=geometry, section=request.section, now=now)
    passed_over: set[int] = set()  # seats competitors are taking or took since they were read
    waiting = False
    for _attempt in range(ATTEMPTS):
        choice = _choose(free, passed_over, request, geometry, no_orphans=no_orphans)
        if choice is None:
            if waiting or not passed_over:
                raise NoSeatsAvailableError(_nothing_fits(request))
            free.forget()
            passed_over, waiting = set(), True
            continue
        wanted = set(choice.seat_ids)
        savepoint = session.begin_nested()
        still_free, taken = select_seats_for_update_unless_locked(
            session, choice.seat_ids, free_condition=status_filter(AVAILABLE, now), skip_locked=not waiting
        )
        if still_free != wanted:
            savepoint.rollback()
            passed_over |= wanted - still_free
            if taken:  # competitors committed since the read: others surely did too, read again
                free.forget()
            continue
        held = ledger.hold_free(
            session, choice.seat_ids, event_id=event_id, user_id=user_id, until=until, now=now, limits=limits
        )
        if len(held) == len(wanted):
            savepoint.commit()
            return choice, held
        savepoint.rollback()  # the rows are locked and free: only a limit (the address's) can stop it
        _check_limits(session, user_id=user_id, event_id=event_id, count=request.count, now=now, limits=limits)
        passed_over |= wanted - {seat.id for seat in held}
    raise BusyError("Other buyers took the best seats while we chose; please try again.")


def _check_limits(session: Session, *, user_id: int, event_id: int, count: int, now: datetime, limits: HoldLimits):
    held = ledger.count_live_holds(session, user_id=user_id, event_id=event_id, now=now)
    if held + count > limits.per_user:
        raise HoldLimitReachedError(
            f"You hold {held} seats of this event; {count} more would pass the most allowed ({limits.per_user})."
        )
    by_address = ledger.count_address_holds(session, address=limits.address, event_id=event_id, now=now)
    if limits.address and by_address + count > limits.per_address:
        raise HoldLimitReachedError(
            f"Your network address already holds {by_address} seats of this event; {count} more would pass "
            f"the most allowed ({limits.per_address})."
        )


def _nothing_fits(request: SeatRequest) -> str:
    what = f"{request.count} seats" if request.count > 1 else "a seat"
    if request.category:
        what += f" in {request.category}"
    if request.section:
        what += f" in section {request.section}"
    if request.accessible:
        what += f" ({request.accessible} accessible)"
    together = " together" if request.together and request.count > 1 else ""
    return f"There are not {what}{together} free right now."


def _choose(free: _FreeRows, passed_over: set[int], request: SeatRequest, geometry: Geometry, *, no_orphans: bool):
    """The contract's choice. On an event that refuses orphans (`no_orphan_seats`) only a choice that
    leaves none is offered (step 2 is skipped, step 3 must leave none), since an order of any other
    would be refused at checkout."""
    if no_orphans:
        request = replace(request, orphans_allowed=False)
    choice = choose_seats_nearest_first(free.nearest_first(passed_over), request, geometry.focal_point)
    if choice is not None and no_orphans and choice.step == STEP_APART:
        seats = [seat for seat in free.read_so_far() if seat.id not in passed_over]
        if orphans_created(seats, choice.seat_ids):
            return None
    return choice


class _FreeRows:
    """The free seats of an event's rows, read from the database nearest rows first, in batches, as
    the choice asks for them (seat_choice.choose_seats_nearest_first stops at the first row whose
    bound is beyond the best block found: usually the first batch). Rows read are kept for the
    request's further choices until `forget()`."""

    def __init__(self, session: Session, *, event_id: int, geometry: Geometry, section: str | None, now: datetime):
        self.session, self.event_id, self.geometry, self.now = session, event_id, geometry, now
        self.order = [row for row in geometry.rows if section is None or row[1] == section]
        self.read: list[tuple[float, list[SeatCandidate]]] = []

    def forget(self) -> None:
        self.read = []

    def read_so_far(self) -> list[SeatCandidate]:
        return [seat for _bound, seats in self.read for seat in seats]

    def nearest_first(self, passed_over: set[int]):
        index = 0
        while True:
            if index == len(self.read) and not self._read_more():
                return
            bound, seats = self.read[index]
            if passed_over:
                seats = [seat for seat in seats if seat.id not in passed_over]
            yield bound, seats
            index += 1

    def _read_more(self) -> bool:
        """Read the free seats of the next rows (at least BATCH_SEATS seats of layout, and at least as
        many as read so far): one indexed query; False when every row has been read."""
        start = len(self.read)
        if start == len(self.order):
            return False
        wanted = max(BATCH_SEATS, sum(row[3] for row in self.order[:start]))
        stop, seats_in_batch = start, 0
        while stop < len(self.order) and seats_in_batch < wanted:
            seats_in_batch += self.order[stop][3]
            stop += 1
        batch = self.order[start:stop]
        by_row: dict[tuple[str, str], list[SeatCandidate]] = {(row[1], row[2]): [] for row in batch}
        for seat in _free_seats(
            self.session, event_id=self.event_id, rows=list(by_row), now=self.now, geometry=self.geometry
        ):
            by_row[(seat.section, seat.row)].append(seat)
        for bound, section, name, _count in batch:
            seats = by_row[(section, name)]
            seats.sort(key=_number)
            self.read.append((bound, seats))
        return True


def _number(seat: SeatCandidate) -> int:
    return seat.number


def _free_seats(
    session: Session, *, event_id: int, rows: list[tuple[str, str]], now: datetime, geometry: Geometry
) -> list[SeatCandidate]:
    """The seats of these rows of the event free at `now`: one read by the (event, section, row,
    number) index, no row lock."""
    query = select(
        _SEATS.c.id,
        _SEATS.c.section,
        _SEATS.c.row,
        _SEATS.c.number,
        _SEATS.c.x,
        _SEATS.c.y,
        _SEATS.c.category,
        _SEATS.c.accessible,
    ).where(
        _SEATS.c.event_id == event_id,
        tuple_(_SEATS.c.section, _SEATS.c.row).in_(rows),
        status_filter(AVAILABLE, now),
    )
    row_index, laid_out = geometry.row_index, geometry.laid_out
    candidates = []
    for seat_id, seat_section, row, number, x, y, category, accessible in session.connection().execute(query).all():
        index = row_index.get((seat_section, row), 0)
        if laid_out and x is not None and y is not None:
            place_x, place_y = x, y
        else:
            place_x, place_y = float(number), float(index)
        candidates.append(
            SeatCandidate(seat_id, seat_section, row, index, number, place_x, place_y, category, bool(accessible))
        )
    return candidates


def _geometry(session: Session, *, event_id: int, venue_id: int | None) -> Geometry:
    """Read the event's geometry: its rows in the order they were made (ids ascend with the layout), and
    the focal point of its venue's layout, else the middle of its first row."""
    rows = session.execute(
        select(
            _SEATS.c.section,
            _SEATS.c.row,
            func.min(_SEATS.c.id),
            func.min(_SEATS.c.number),
            func.max(_SEATS.c.number),
            func.min(_SEATS.c.x),
            func.max(_SEATS.c.x),
            func.min(_SEATS.c.y),
            func.max(_SEATS.c.y),
            func.count(),
        )
        .where(_SEATS.c.event_id == event_id)
        .group_by(_SEATS.c.section, _SEATS.c.row)
    ).all()
    rows.sort(key=lambda row: row[2])
    row_index: dict[tuple[str, str], int] = {}
    per_section: dict[str, int] = {}
    for section, row, *_ in rows:
        row_index[(section, row)] = per_section.get(section, 0)
        per_section[section] = per_section.get(section, 0) + 1
    laid_out = bool(rows) and rows[0][5] is not None
    focal_point = (0.0, 0.0)
    if rows:
        _section, _row, _id, low, high, min_x, max_x, min_y, _max_y, _count = rows[0]
        focal_point = ((min_x + max_x) / 2, min_y) if laid_out else ((low + high) / 2, 0.0)
    if venue_id is not None:
        layout = session.scalar(select(Venue.layout).where(Venue.id == venue_id))
        point = (layout or {}).get("focal_point")
        if point is not None:
            focal_point = (float(point["x"]), float(point["y"]))
    bounded = []
    for section, row, _id, low, high, min_x, max_x, min_y, max_y, count in rows:
        index = row_index[(section, row)]
        if laid_out:
            corners = (min_x, min_y), (max_x, max_y)
        else:
            corners = (float(low), float(index)), (float(high), float(index))
        box = [SeatCandidate(0, section, row, index, 0, x, y) for x, y in corners]
        bounded.append((row_bound(box, focal_point), section, row, count))
    bounded.sort()
    return Geometry(focal_point=focal_point, row_index=row_index, laid_out=laid_out, rows=tuple(bounded))
