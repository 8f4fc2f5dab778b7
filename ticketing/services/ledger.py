"""The seat ledger: every change of a seat's state is one function here, and nothing else writes seats.

Transitions: hold (and renew), release, put in an order, book, free an order's seats, block and
unblock (the organizer takes a seat off sale and puts it back), free a sold seat whose ticket was
voided (a refund, an event's cancellation), and write down holds that ran out. Each is one
Core UPDATE that also stamps `changed_in` with the transaction's change stamp and records the event in
the write transaction, so the change feed and seat-map versions see every change by construction
(database.write_transaction). Callers lock the rows first (services.row_locks) and decide; the ledger
writes what they decided. One exception to "the caller decides", for the hottest route: on
PostgreSQL a hold is also one call of the database function `hold_seat()` (`hold_in_one_statement`),
which decides and writes in a single statement with the same conditions and stamp as `hold`.

"Hold" is the customer's word (a seat kept for them for a while); row locks are the database's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, func, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..database import change_stamp, is_busy_error, note_seat_changes, require_write_transaction
from ..errors import BusyError, UnauthorizedError
from ..models import AVAILABLE, BLOCKED, BOOKED, LOCKED, Seat, live_lock, run_out_lock
from .row_locks import select_seats_for_update_unless_locked, select_user_for_update

_SEATS = Seat.__table__
_HELD = Seat.__table__.alias("held")  # built once: an alias makes new Column objects


@dataclass(frozen=True)
class HoldLimits:
    """The most seats of one event held at once by one user, and by all users behind one address."""

    per_user: int
    per_address: int
    address: str | None  # the client's address; None: not known (commands, tests), not counted


def live_holds(*, user_id: int, event_id: int, now: datetime):
    """SQL scalar: how many seats of the event the user holds at `now` (plain holds and pending orders).

    Served by the (holder_id, event_id) index: its cost is the user's holds, not the event's size.
    """
    return (
        select(func.count())
        .select_from(_HELD)
        .where(_HELD.c.holder_id == user_id, _HELD.c.event_id == event_id, live_lock(now, _HELD))
        .scalar_subquery()
    )


def live_address_holds(*, address: str, event_id: int, now: datetime):
    """SQL scalar: how many seats of the event are held at `now` by requests from `address`."""
    return (
        select(func.count())
        .select_from(_HELD)
        .where(_HELD.c.held_from == address, _HELD.c.event_id == event_id, live_lock(now, _HELD))
        .scalar_subquery()
    )


def count_live_holds(session: Session, *, user_id: int, event_id: int, now: datetime) -> int:
    """How many seats of the event the user holds at `now` (plain holds and pending orders alike)."""
    return session.scalar(select(live_holds(user_id=user_id, event_id=event_id, now=now))) or 0


def count_address_holds(session: Session, *, address: str | None, event_id: int, now: datetime) -> int:
    """How many seats of the event requests from `address` hold at `now` (0 when the address is unknown)."""
    if not address:
        return 0
    return session.scalar(select(live_address_holds(address=address, event_id=event_id, now=now))) or 0


def _write(session: Session, seats: Sequence[Row], condition=None, **values) -> int:
    """One UPDATE of the seats (plus `condition`), stamped; return how many rows it changed."""
    if not seats:
        return 0
    statement = update(_SEATS).where(_SEATS.c.id.in_(sorted(seat.id for seat in seats)))
    if condition is not None:
        statement = statement.where(condition)
    changed = session.connection().execute(statement.values(changed_in=change_stamp(session), **values)).rowcount
    if changed:
        note_seat_changes(session, {seat.event_id for seat in seats})
    return changed


def hold(
    session: Session,
    seat: Row,
    *,
    user_id: int,
    until: datetime,
    now: datetime,
    limits: HoldLimits,
    renewing: bool,
) -> bool:
    """Hold the seat for the user until `until` (a renewal when they hold it already).

    The UPDATE re-checks what the caller decided from `seat`: a renewal only while the user's own
    plain hold still runs at `now`, a new hold only while the seat is free at `now` (available, or a
    hold that ran out). So a caller that read `seat` without its row lock (a snapshot) cannot
    overwrite what another transaction wrote since: PostgreSQL re-evaluates the condition on the
    newest row after waiting for its lock. For a new hold the limits are checked inside the same
    UPDATE (exact per user, whose row the caller locked; per address as committed when the statement
    runs). False when the seat was not as decided or a limit stopped it.
    """
    if renewing:
        condition = (_SEATS.c.holder_id == user_id) & _SEATS.c.order_id.is_(None) & live_lock(now)
    else:
        condition = or_(_SEATS.c.status == AVAILABLE, run_out_lock(now))
        condition = condition & (live_holds(user_id=user_id, event_id=seat.event_id, now=now) < limits.per_user)
        if limits.address:
            address_holds = live_address_holds(address=limits.address, event_id=seat.event_id, now=now)
            condition = condition & (address_holds < limits.per_address)
    changed = _write(
        session,
        [seat],
        condition,
        status=LOCKED,
        holder_id=user_id,
        locked_until=until,
        order_id=None,
        held_from=limits.address,
    )
    return changed == 1


_HOLD_SEAT_FUNCTION = text(
    """SELECT r.out_outcome AS outcome, (r.out_seat).*, r.out_event_status AS event_status,
        r.out_organization_id AS organization_id, r.out_sales_start AS sales_start,
        r.out_sales_end AS sales_end, r.out_starts_at AS starts_at
    FROM hold_seat(CAST(:seat_id AS bigint), CAST(:user_id AS bigint), CAST(:token_ids AS text[]),
        CAST(:now AS timestamp), CAST(:until AS timestamp), CAST(:per_user AS integer),
        CAST(:per_address AS integer), CAST(:address AS text), CAST(:lock_timeout_ms AS integer)) AS r"""
)


def hold_in_one_statement(
    session: Session,
    *,
    seat_id: int,
    user_id: int,
    token_ids: list[str],
    now: datetime,
    until: datetime,
    limits: HoldLimits,
    lock_timeout_ms: int | None,
):
    """PostgreSQL: `hold` and everything the lock decides before it, in one round trip: the function
    `hold_seat()` (migration 0011) as its own transaction (autocommit), so the user's row lock it
    takes lasts only as long as the function runs on the server, never across a round trip or a
    wait for the GIL. It also checks the token's account and whether `token_ids` were revoked.
    Returns one row: `outcome` (no_account, revoked, no_seat, look: a snapshot not to be written,
    held, renewed, changed: written nothing, decide again), the seat's columns (as written for held
    and renewed) and its event's sales columns (`event_status`, `organization_id`, `sales_start`,
    `sales_end`, `starts_at`). The session is left with no transaction open (its connection goes back
    to the pool, in its default isolation again), so whatever runs next starts a normal one."""
    if session.in_transaction():
        session.commit()  # a read transaction (nothing to write): end it, autocommit needs a fresh start
    connection = session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    params = {
        "seat_id": seat_id,
        "user_id": user_id,
        "token_ids": token_ids,
        "now": now,
        "until": until,
        "per_user": limits.per_user,
        "per_address": limits.per_address,
        "address": limits.address or None,
        "lock_timeout_ms": lock_timeout_ms,
    }
    try:
        row = connection.execute(_HOLD_SEAT_FUNCTION, params).one()
    except DBAPIError as error:
        session.rollback()
        if is_busy_error(error):
            raise BusyError() from error
        raise
    session.commit()
    return row


@dataclass(frozen=True)
class BlockHold:
    """What `hold_free` did with the candidate blocks: the block it held, or why none."""

    held: list[Row]  # the seats held (every column an answer shows), by id; [] when none was
    skipped: frozenset[int] = frozenset()  # seats another transaction had locked (passed over, not waited for)
    taken: frozenset[int] = frozenset()  # seats no longer free
    limit_reached: bool = False  # a block was free, but the user's (or the address's) limit stopped it


def hold_free(
    session: Session,
    blocks: Sequence[Sequence[int]],
    *,
    event_id: int,
    user_id: int,
    until: datetime,
    now: datetime,
    limits: HoldLimits,
    wait: bool = False,
) -> BlockHold:
    """Hold the first of the candidate blocks that is wholly free at `now`, for the user until `until`.

    Best available's hold. The user's row is locked first (the per-user count is exact), then each
    block in turn: its seats' rows are locked in ascending id order, without waiting for rows another
    transaction has locked (`wait=False`: those seats are skipped), and kept only if every seat is
    free. Then the limits are checked counting the whole block, and one UPDATE holds it, stamped like
    every seat write: all of its seats or none. A block not wholly free is given back at once (the
    rows it locked are released): when none of its seats was free the next block is tried (the
    caller chose it for that case), when some were the attempt stops, so that the caller chooses
    again knowing which seats were not free. Blocks are seat ids, all of the same length.

    On PostgreSQL this is one statement, the `best_available_hold` function (migration 0012); elsewhere
    the same steps run one by one, each block in a savepoint.
    """
    if not blocks:
        return BlockHold(held=[])
    if session.get_bind().dialect.name == "postgresql":
        return _hold_free_in_database(
            session, blocks, event_id=event_id, user_id=user_id, until=until, now=now, limits=limits, wait=wait
        )
    select_user_for_update(session, user_id)
    skipped: set[int] = set()
    taken: set[int] = set()
    for block in blocks:
        wanted = set(block)
        savepoint = session.begin_nested()
        free, not_free = select_seats_for_update_unless_locked(
            session, block, free_condition=or_(_SEATS.c.status == AVAILABLE, run_out_lock(now)), skip_locked=not wait
        )
        if free == wanted:
            held = _hold_block(session, block, event_id=event_id, user_id=user_id, until=until, now=now, limits=limits)
            if len(held) == len(wanted):
                savepoint.commit()
                note_seat_changes(session, {event_id})
                rows = session.connection().execute(select(_SEATS).where(_SEATS.c.id.in_(held)).order_by(_SEATS.c.id))
                return BlockHold(held=list(rows))
            savepoint.rollback()  # the rows are locked and free: only a limit stops the UPDATE
            return BlockHold(held=[], limit_reached=True)
        savepoint.rollback()
        taken |= not_free
        skipped |= wanted - free - not_free
        if free:
            break
    return BlockHold(held=[], skipped=frozenset(skipped), taken=frozenset(taken))


def _hold_block(
    session: Session,
    seat_ids: Sequence[int],
    *,
    event_id: int,
    user_id: int,
    until: datetime,
    now: datetime,
    limits: HoldLimits,
) -> list[int]:
    """The conditional UPDATE of `hold_free`: the seats still free at `now`, if the limits allow the
    whole block; return the ids it held."""
    count = len(seat_ids)
    condition = or_(_SEATS.c.status == AVAILABLE, run_out_lock(now)) & (
        live_holds(user_id=user_id, event_id=event_id, now=now) <= limits.per_user - count
    )
    if limits.address:
        address_holds = live_address_holds(address=limits.address, event_id=event_id, now=now)
        condition = condition & (address_holds <= limits.per_address - count)
    statement = (
        update(_SEATS)
        .where(_SEATS.c.id.in_(sorted(seat_ids)), _SEATS.c.event_id == event_id, condition)
        .values(
            changed_in=change_stamp(session),
            status=LOCKED,
            holder_id=user_id,
            locked_until=until,
            order_id=None,
            held_from=limits.address,
        )
        .returning(_SEATS.c.id)
    )
    return sorted(session.connection().execute(statement).scalars())


_HOLD_IN_DATABASE = (
    "SELECT * FROM best_available_hold(%(user_id)s, %(event_id)s, %(blocks)s::bigint[], %(count)s, "
    "%(now)s::timestamp, %(until)s::timestamp, %(per_user)s, %(address)s::varchar, %(per_address)s, "
    "%(skip_locked)s)"
)


def _hold_free_in_database(
    session: Session,
    blocks: Sequence[Sequence[int]],
    *,
    event_id: int,
    user_id: int,
    until: datetime,
    now: datetime,
    limits: HoldLimits,
    wait: bool,
) -> BlockHold:
    require_write_transaction(session)
    count = len(blocks[0])
    if any(len(block) != count for block in blocks):
        raise ValueError("every block must have the same number of seats")
    params = {
        "user_id": user_id,
        "event_id": event_id,
        "blocks": [seat_id for block in blocks for seat_id in block],
        "count": count,
        "now": now,
        "until": until,
        "per_user": limits.per_user,
        "address": limits.address or None,
        "per_address": limits.per_address,
        "skip_locked": not wait,
    }
    rows = session.connection().exec_driver_sql(_HOLD_IN_DATABASE, params).all()
    held = sorted((row for row in rows if row.outcome == "held"), key=lambda row: row.id)
    if held:
        note_seat_changes(session, {event_id})
        return BlockHold(held=held)
    outcomes = {row.outcome for row in rows}
    if "no_user" in outcomes:
        raise UnauthorizedError("Your account no longer exists.")
    return BlockHold(
        held=[],
        skipped=frozenset(row.id for row in rows if row.outcome == "skipped"),
        taken=frozenset(row.id for row in rows if row.outcome == "taken"),
        limit_reached="limit" in outcomes,
    )


def release(session: Session, seats: Sequence[Row]) -> None:
    """Make the seats available (a hold given up, an order's seats given back)."""
    _write(session, seats, status=AVAILABLE, holder_id=None, locked_until=None, order_id=None, held_from=None)


def put_in_order(
    session: Session, seats: Sequence[Row], *, user_id: int, order_id: int, until: datetime, address: str | None
) -> None:
    """Hold the seats for the order until its deadline (only the order can change them then)."""
    _write(
        session,
        seats,
        status=LOCKED,
        holder_id=user_id,
        locked_until=until,
        order_id=order_id,
        held_from=address,
    )


def book(session: Session, seats: Sequence[Row]) -> None:
    """Mark the seats sold (the holder stays on record as the buyer; the address is forgotten)."""
    _write(session, seats, status=BOOKED, locked_until=None, held_from=None)


def block(session: Session, seats: Sequence[Row]) -> None:
    """Take the seats off sale (the caller found them free: no live hold, order or sale to undo)."""
    _write(session, seats, status=BLOCKED, holder_id=None, locked_until=None, order_id=None, held_from=None)


def unblock(session: Session, seats: Sequence[Row]) -> None:
    """Put blocked seats back on sale."""
    _write(session, seats, _SEATS.c.status == BLOCKED, status=AVAILABLE)


def free_sold(session: Session, seats: Sequence[Row]) -> int:
    """Put sold seats back on sale: their tickets were just voided in this transaction (a refund or the
    event's cancellation). Only seats still `booked` change; return how many did."""
    return _write(
        session,
        seats,
        _SEATS.c.status == BOOKED,
        status=AVAILABLE,
        holder_id=None,
        locked_until=None,
        order_id=None,
        held_from=None,
    )


def seats_held_by_orders(seats: Iterable[Row], order_ids: set[int]) -> list[Row]:
    """Those of the (row-locked) seats that the orders still hold."""
    return [seat for seat in seats if seat.order_id in order_ids and seat.status == LOCKED]


def release_run_out_holds(session: Session, *, now: datetime, event_id: int | None, limit: int) -> int:
    """Write down up to `limit` plain holds (no order) that ran out before `now`; return how many.

    Rows another transaction has locked are skipped, so this never waits on (or deadlocks with) a
    customer's request; the UPDATE re-checks the condition under the row locks.
    """
    require_write_transaction(session)
    query = select(_SEATS.c.id, _SEATS.c.event_id).where(run_out_lock(now), _SEATS.c.order_id.is_(None))
    if event_id is not None:
        query = query.where(_SEATS.c.event_id == event_id)
    found = session.connection().execute(query.order_by(_SEATS.c.id).limit(limit).with_for_update(skip_locked=True))
    seats = found.all()
    condition = run_out_lock(now) & _SEATS.c.order_id.is_(None)
    _write(
        session, seats, condition, status=AVAILABLE, holder_id=None, locked_until=None, order_id=None, held_from=None
    )
    return len(seats)
