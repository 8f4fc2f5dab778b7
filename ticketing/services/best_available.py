"""Best available: choose the seats a buyer asked for (services.seat_choice) and hold them, under contention.

One write transaction per request, which never locks the event, nor any seat while it chooses:

1. one read of the event: whether it sells to the user, and how many seats the user (and their
   address) hold already, so that a request past a limit is refused before anything is chosen;
2. one indexed read of the free seats of the rows nearest the focal point (no row lock), more rows
   only when the choice needs them;
3. the choice in Python (`seat_choice.choose_blocks_nearest_first`), and with it the next choices
   in case competitors are taking the first (each made as if the blocks before it were taken);
4. `ledger.hold_free` holds the first of these blocks that is wholly free: it locks the user's row
   (exact per-user limit), skips seats another request is taking right now instead of waiting for
   them, and holds a block with one conditional UPDATE, all of it or none. On PostgreSQL that is
   one statement (a function); on SQLite, which serialises writers, the first choice always holds.

A block partly taken meanwhile makes the choice be made again, without the seats found not free
(re-reading the rows when a competitor committed since the read). At most `ATTEMPTS` holds, then
`503 busy`. Seats passed over may yet come free (a competitor's attempt that lost): before answering
`no_seats_available` because of them, the seats are read again and locks are waited for (bounded by
`lock_timeout`). docs/best-available.md tells the whole story.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from operator import attrgetter

from sqlalchemy import DateTime, Text, bindparam, func, literal, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from .. import metrics
from ..database import write_transaction
from ..errors import BusyError, EventNotFoundError, HoldLimitReachedError, NoSeatsAvailableError
from ..models import AVAILABLE, Event, EventGeometry, Seat, User, Venue, status_filter
from . import ledger
from .auth import refuse_token, require_token_holder, revoked_any
from .catalogue import SeatView, seat_view
from .ledger import HoldLimits
from .sales import require_on_sale_row
from .seat_choice import (
    STEP_APART,
    Choice,
    SeatCandidate,
    SeatRequest,
    choose_blocks_nearest_first,
    orphans_created,
    row_bound,
)

Clock = Callable[[], datetime]
ATTEMPTS = 12  # holds tried per request before `503 busy` (each one lost to competitors)
CANDIDATES = 4  # blocks offered to one hold: the choice, and the next ones should competitors take it
# Rows in the first read of the nearest rows. A choice of 2 to 4 seats, and the next ones, look at 6 to
# 11 rows whatever their length on half-sold events (bench/profile_best.py); later reads double.
BATCH_ROWS = 12

_SEATS = Seat.__table__
_EVENTS = Event.__table__
# What the choice reads of each free seat (a SeatCandidate).
_CANDIDATE_COLUMNS = tuple(
    _SEATS.c[name] for name in ("id", "section", "row", "number", "x", "y", "category", "accessible")
)
_USERS = User.__table__
_GEOMETRIES = EventGeometry.__table__
_NUMBER = attrgetter("number")


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

    @cached_property
    def rows_by_section(self) -> dict[str, tuple[tuple[float, str, str, int], ...]]:
        """`rows` of each section, nearest first (a request for one section reads only its rows)."""
        by_section: dict[str, list] = {}
        for row in self.rows:
            by_section.setdefault(row[1], []).append(row)
        return {section: tuple(rows) for section, rows in by_section.items()}

    def to_json(self) -> str:
        rows = [
            [bound, section, row, self.row_index[(section, row)], count] for bound, section, row, count in self.rows
        ]
        return json.dumps({"focal_point": list(self.focal_point), "laid_out": self.laid_out, "rows": rows})

    @classmethod
    def from_json(cls, text: str) -> Geometry:
        data = json.loads(text)
        rows = data["rows"]
        return cls(
            focal_point=(float(data["focal_point"][0]), float(data["focal_point"][1])),
            row_index={(section, row): index for _bound, section, row, index, _count in rows},
            laid_out=bool(data["laid_out"]),
            rows=tuple((float(bound), section, row, count) for bound, section, row, _index, count in rows),
        )


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
    token_ids: list[str] | None = None,
) -> HeldBlock:
    """Choose the best seats for `request` by the contract's steps and hold them for the user, or raise.

    With `token_ids` (the route skipped the per-request token lookup: security.checks_token_itself),
    the first read also checks that the user's account exists and that none of them was revoked.

    NoSeatsAvailableError when nothing fits; HoldLimitReachedError when the seats would take the user
    (or their address) past the limit; EventNotFoundError / EventNotOnSaleError as for a lock; BusyError
    after `ATTEMPTS` holds that competitors won.
    """
    with write_transaction() as session:
        now = clock()
        event = session.execute(
            _EVENT_QUERIES[bool(limits.address)],
            {
                "event_id": event_id,
                "user_id": user_id,
                "now": now,
                "address": limits.address,
                "token_ids": token_ids or [],
            },
        ).first()
        if token_ids is not None:
            if event is None:
                require_token_holder(user_id=user_id, token_ids=token_ids)
            else:
                refuse_token(account=event.account, revoked=event.token_revoked)
        if event is None:
            raise EventNotFoundError()
        require_on_sale_row(session, event, user_id=user_id, now=now, hidden=EventNotFoundError())
        _refuse_past_limits(held=event.held, by_address=event.by_address, count=request.count, limits=limits)
        geometry = _event_geometry(session, event_id=event_id, venue_id=event.venue_id, cache=cache)
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


def _event_query(*, with_address: bool):
    """One read of the event: what says whether it sells to the user, and the holds the user and
    their address have of it (a snapshot: `ledger.hold_free` counts again, exactly, as it holds).
    Built once (`_EVENT_QUERIES`): building a statement costs more than running it."""
    event_id, user_id, now = bindparam("event_id"), bindparam("user_id"), bindparam("now", type_=DateTime())
    by_address = (
        ledger.live_address_holds(address=bindparam("address"), event_id=event_id, now=now)
        if with_address
        else literal(0)
    )
    return select(
        _EVENTS.c.venue_id,
        _EVENTS.c.no_orphan_seats,
        _EVENTS.c.status,
        _EVENTS.c.organization_id,
        _EVENTS.c.sales_start,
        _EVENTS.c.sales_end,
        _EVENTS.c.starts_at,
        ledger.live_holds(user_id=user_id, event_id=event_id, now=now).label("held"),
        by_address.label("by_address"),
        select(_USERS.c.id).where(_USERS.c.id == user_id).exists().label("account"),
        revoked_any("token_ids").label("token_revoked"),
    ).where(_EVENTS.c.id == event_id)


_EVENT_QUERIES = {with_address: _event_query(with_address=with_address) for with_address in (False, True)}


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

    Each hold is offered the choice and up to `CANDIDATES - 1` next ones, each made as if the blocks
    before it were taken: when a crowd chooses the same block, the losers get the next blocks in the
    same round trip. Seats found not free (locked by a competitor right now, or taken since the read)
    are passed over and the choice made again without them; seats found taken make the rows be read
    again. Passed-over seats may yet come free (a competitor's attempt that lost), so before
    answering `no_seats_available` because of them the seats are read again and locks are waited for
    (bounded by `lock_timeout`), which tells taken from free.
    """
    free = _FreeRows(session, event_id=event_id, geometry=geometry, section=request.section, now=now)
    passed_over: set[int] = set()  # seats competitors are taking or took since they were read
    waiting = False
    for _attempt in range(ATTEMPTS):
        candidates = _candidates(free, passed_over, request, geometry, no_orphans=no_orphans)
        if not candidates:
            if waiting or not passed_over:
                raise NoSeatsAvailableError(_nothing_fits(request))
            free.forget()
            passed_over, waiting = set(), True
            continue
        outcome = ledger.hold_free(
            session,
            [choice.seat_ids for choice in candidates],
            event_id=event_id,
            user_id=user_id,
            until=until,
            now=now,
            limits=limits,
            wait=waiting,
        )
        if outcome.held:
            held_ids = {seat.id for seat in outcome.held}
            return next(choice for choice in candidates if set(choice.seat_ids) == held_ids), outcome.held
        if outcome.limit_reached:
            raise _limit_reached(
                session, user_id=user_id, event_id=event_id, count=request.count, now=now, limits=limits
            )
        passed_over |= outcome.skipped | outcome.taken
        if outcome.taken:  # competitors committed since the read: others surely did too, read again
            free.forget()
    raise BusyError("Other buyers took the best seats while we chose; please try again.")


def _candidates(
    free: _FreeRows, passed_over: set[int], request: SeatRequest, geometry: Geometry, *, no_orphans: bool
) -> list[Choice]:
    """The choice without the passed-over seats, then the next ones, each as if the blocks before it
    were taken (`seat_choice.choose_blocks_nearest_first`: one scan, rows rescanned only where a block
    was taken). On an event that refuses orphans (`no_orphan_seats`) only choices that leave none are
    offered (step 2 is skipped, step 3 must leave none), since an order of any other would be refused
    at checkout."""
    if no_orphans:
        request = replace(request, orphans_allowed=False)
    choices = choose_blocks_nearest_first(free.nearest_first(passed_over), request, geometry.focal_point, CANDIDATES)
    if no_orphans:
        left_out = set(passed_over)
        for index, choice in enumerate(choices):
            if choice.step == STEP_APART:
                seats = [seat for seat in free.read_so_far() if seat.id not in left_out]
                if orphans_created(seats, choice.seat_ids):
                    return choices[:index]
            left_out.update(choice.seat_ids)
    return choices


def _refuse_past_limits(*, held: int, by_address: int, count: int, limits: HoldLimits) -> None:
    if held + count > limits.per_user:
        raise HoldLimitReachedError(
            f"You hold {held} seats of this event; {count} more would pass the most allowed ({limits.per_user})."
        )
    if limits.address and by_address + count > limits.per_address:
        raise HoldLimitReachedError(
            f"Your network address already holds {by_address} seats of this event; {count} more would pass "
            f"the most allowed ({limits.per_address})."
        )


def _limit_reached(
    session: Session, *, user_id: int, event_id: int, count: int, now: datetime, limits: HoldLimits
) -> HoldLimitReachedError:
    """The refusal of a hold a limit stopped, saying which (counted again: the hold's own count was exact)."""
    held = ledger.count_live_holds(session, user_id=user_id, event_id=event_id, now=now)
    by_address = ledger.count_address_holds(session, address=limits.address, event_id=event_id, now=now)
    try:
        _refuse_past_limits(held=held, by_address=by_address, count=count, limits=limits)
    except HoldLimitReachedError as error:
        return error
    return HoldLimitReachedError(f"{count} more seats would pass the most one buyer may hold.")


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


class _FreeRows:
    """The free seats of an event's rows, read from the database nearest rows first, in batches, as
    the choice asks for them (seat_choice.choose_blocks_nearest_first stops at the first row whose
    bound is beyond the best block found: usually the first batch). Rows read are kept for the
    request's further choices until `forget()`."""

    def __init__(self, session: Session, *, event_id: int, geometry: Geometry, section: str | None, now: datetime):
        self.session, self.event_id, self.geometry, self.now = session, event_id, geometry, now
        self.order = geometry.rows if section is None else geometry.rows_by_section.get(section, ())
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
        """Read the free seats of the next rows (BATCH_ROWS rows, then as many as read so far): one
        indexed query; False when every row has been read."""
        start = len(self.read)
        if start == len(self.order):
            return False
        stop = start + max(BATCH_ROWS, start)
        batch = self.order[start:stop]
        by_row: dict[tuple[str, str], list[SeatCandidate]] = {(row[1], row[2]): [] for row in batch}
        for seat in _free_seats(
            self.session, event_id=self.event_id, rows=list(by_row), now=self.now, geometry=self.geometry
        ):
            by_row[(seat.section, seat.row)].append(seat)
        for bound, section, name, _count in batch:
            seats = by_row[(section, name)]
            seats.sort(key=_NUMBER)
            self.read.append((bound, seats))
        return True


def _free_seats_of_rows_query():
    """PostgreSQL's read of the free seats of some rows: the rows as two arrays joined to the seats, so
    that each row is one scan of the (event, section, row, number) index (a row-value IN list would
    use the index's section column only). Built once, with parameters."""
    rows = (
        func.unnest(bindparam("sections", type_=ARRAY(Text)), bindparam("rows", type_=ARRAY(Text)))
        .table_valued("section", "row")
        .render_derived(name="wanted")
    )
    return (
        select(*_CANDIDATE_COLUMNS)
        .select_from(rows)
        .join(
            _SEATS,
            (_SEATS.c.event_id == bindparam("event_id"))
            & (_SEATS.c.section == rows.c.section)
            & (_SEATS.c.row == rows.c.row),
        )
        .where(status_filter(AVAILABLE, bindparam("now", type_=DateTime())))
    )


_FREE_SEATS_OF_ROWS = _free_seats_of_rows_query()


def _free_seats(
    session: Session, *, event_id: int, rows: list[tuple[str, str]], now: datetime, geometry: Geometry
) -> list[SeatCandidate]:
    """The seats of these rows of the event free at `now`: one read by the (event, section, row,
    number) index, no row lock."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        params = {
            "sections": [section for section, _row in rows],
            "rows": [row for _section, row in rows],
            "event_id": event_id,
            "now": now,
        }
        found = connection.execute(_FREE_SEATS_OF_ROWS, params).all()
    else:
        query = select(*_CANDIDATE_COLUMNS).where(
            _SEATS.c.event_id == event_id,
            tuple_(_SEATS.c.section, _SEATS.c.row).in_(rows),
            status_filter(AVAILABLE, now),
        )
        found = connection.execute(query).all()
    row_index, laid_out = geometry.row_index, geometry.laid_out
    candidates = []
    for seat_id, seat_section, row, number, x, y, category, accessible in found:
        index = row_index.get((seat_section, row), 0)
        if laid_out and x is not None and y is not None:
            place_x, place_y = x, y
        else:
            place_x, place_y = float(number), float(index)
        candidates.append(
            SeatCandidate(seat_id, seat_section, row, index, number, place_x, place_y, category, bool(accessible))
        )
    return candidates


def store_geometry(session: Session, *, event_id: int, venue_id: int | None) -> Geometry:
    """Measure the geometry of a new event's seats and store it (`event_geometries`), in the transaction
    that made them: best available never measures it while buyers wait (a GROUP BY over the seats)."""
    geometry = _measure_geometry(session, event_id=event_id, venue_id=venue_id)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(_GEOMETRIES)
        .values(event_id=event_id, geometry=geometry.to_json())
        .on_conflict_do_nothing(index_elements=[_GEOMETRIES.c.event_id])
    )
    return geometry


def _event_geometry(session: Session, *, event_id: int, venue_id: int | None, cache: GeometryCache | None) -> Geometry:
    """The event's geometry: from the worker's cache, else as stored (`event_geometries`, written when the
    event was made), else (an event made before that table) measured now and stored for every worker."""
    geometry = cache.get(event_id) if cache is not None else None
    if geometry is not None:
        return geometry
    stored = session.execute(select(_GEOMETRIES.c.geometry).where(_GEOMETRIES.c.event_id == event_id)).scalar()
    geometry = Geometry.from_json(stored) if stored is not None else None
    if geometry is None:
        geometry = store_geometry(session, event_id=event_id, venue_id=venue_id)
    if cache is not None:
        cache.put(event_id, geometry)
    return geometry


def _measure_geometry(session: Session, *, event_id: int, venue_id: int | None) -> Geometry:
    """Measure the event's geometry: its rows in the order they were made (ids ascend with the layout),
    and the focal point of its venue's layout, else the middle of its first row."""
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
