"""Database row locks (SELECT ... FOR UPDATE) for write transactions, not a customer's hold on a seat.

One order everywhere: the user's row, then an organization, then an event, then orders, then tickets,
then seats by ascending id, so that two transactions never wait on each other in a circle. (Customers' holds and
orders never lock the event's row: only organizers' changes of the event do.) Every helper refuses to run outside
`write_transaction()`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Row, Sequence, and_, bindparam, case, func, insert, null, or_, select
from sqlalchemy.orm import Session

from ..database import require_write_transaction
from ..errors import OrderNotFoundError, UnauthorizedError
from ..models import Checkin, Event, Membership, Order, Organization, Seat, Ticket, User
from .auth import revoked_any

_SEATS = Seat.__table__
_USERS = User.__table__
_EVENTS = Event.__table__
_ORGANIZATIONS = Organization.__table__
_TICKETS = Ticket.__table__
_CHECKINS = Checkin.__table__
_MEMBERS = Membership.__table__
_CHECKIN_IDS = Sequence("checkins_id_seq")  # PostgreSQL: the sequence of checkins.id (BIGSERIAL)


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


def select_ticket_for_scan(
    session: Session, *, code: str, event_id: int, user_id: int, nonce: str, token_ids: list[str]
) -> list[Row]:
    """Lock the ticket's row for a scan at the event's door; return, in the same round trip, all a scan
    needs: one row per earlier scan of the ticket, in the order they were recorded (one row with
    `scan_id` None when there is none), or no row at all.

    No row: no ticket with this code at this event, or a caller who is neither a platform admin nor a
    member of the event's organization (nothing is locked for them); the caller tells these apart with
    the event and role read on their own. Each row carries:
    - the caller's role: `is_admin`, `organization_found`, `member_role` (`roles.role_of` decides),
      and `token_revoked`: whether one of `token_ids` (the caller's token's, its login's) was revoked
      (the route leaves its token lookup to this read: security.checks_token_itself);
    - the event: `event_status`, `organization_id`, `name`, `starts_at`;
    - the ticket: `id`, `code`, `status`, `refund_id`, `order_id`, `seat_id`, and its seat's `label`,
      `section`, `row`, `number`, `price_cents`, `event_id`;
    - `next_id`: an id reserved for the scan's own row (`reserve_checkin_id`), so its answer can
      carry it and be stored by the INSERT itself;
    - the earlier scan: `scan_id`, `result`, `gate`, `forced`, `scanned_at`, `recorded_at`, and its
      `answer_status` and `answer` when its nonce is `nonce` (else None).

    Only the ticket's row is locked (`FOR NO KEY UPDATE OF tickets`), never its seat's or event's: a
    check-in must not wait on a buyer's hold or an organizer's edit. It excludes every other check-in
    or void of the ticket, while the foreign key of the check-in row being inserted (KEY SHARE) does
    not wait on it. The ticket's own columns are read as the lock finds them (PostgreSQL re-reads a
    row updated while the statement waited: a void that committed meanwhile is seen); the earlier
    scans are read as of the statement's start, so a scan that committed while this one waited for
    the lock is missing here: `insert_checkin_unless_rescanned` notices that.
    """
    require_write_transaction(session)
    dialect = session.get_bind().dialect.name
    statement = _SCAN_STATEMENTS["postgresql" if dialect == "postgresql" else None]
    params = {"code": code, "event_id": event_id, "user_id": user_id, "nonce": nonce, "token_ids": token_ids}
    return list(session.connection().execute(statement, params))


def reserve_checkin_id(dialect_name: str):
    """SQL: an id for a new check-in row, taken before the row is written (its answer names it).
    PostgreSQL: the table's own sequence, once per statement. SQLite: one past the largest, which holds
    because a write transaction there has the database's write lock from BEGIN IMMEDIATE on."""
    if dialect_name == "postgresql":
        return select(_CHECKIN_IDS.next_value()).scalar_subquery()
    newest = _CHECKINS.alias("newest")
    return select(func.coalesce(func.max(newest.c.id), 0) + 1).correlate(None).scalar_subquery()


def _scan_statement(dialect_name: str | None):
    same_nonce = _CHECKINS.c.nonce == bindparam("nonce")
    membership = and_(_MEMBERS.c.organization_id == _EVENTS.c.organization_id, _MEMBERS.c.user_id == _USERS.c.id)
    return (
        select(
            _USERS.c.is_admin,
            revoked_any("token_ids").label("token_revoked"),
            (_ORGANIZATIONS.c.id.is_not(None)).label("organization_found"),
            _MEMBERS.c.role.label("member_role"),
            _EVENTS.c.status.label("event_status"),
            _EVENTS.c.organization_id,
            _EVENTS.c.name,
            _EVENTS.c.starts_at,
            _TICKETS.c.id,
            _TICKETS.c.code,
            _TICKETS.c.status,
            _TICKETS.c.refund_id,
            _TICKETS.c.order_id,
            _TICKETS.c.seat_id,
            _SEATS.c.label,
            _SEATS.c.section,
            _SEATS.c.row,
            _SEATS.c.number,
            _SEATS.c.price_cents,
            _SEATS.c.event_id,
            reserve_checkin_id(dialect_name or "").label("next_id"),
            _CHECKINS.c.id.label("scan_id"),
            _CHECKINS.c.result,
            _CHECKINS.c.gate,
            _CHECKINS.c.forced,
            _CHECKINS.c.scanned_at,
            _CHECKINS.c.recorded_at,
            case((same_nonce, _CHECKINS.c.answer_status), else_=null()).label("answer_status"),
            case((same_nonce, _CHECKINS.c.answer), else_=null()).label("answer"),
        )
        .select_from(
            _TICKETS.join(_SEATS, _SEATS.c.id == _TICKETS.c.seat_id)
            .join(_EVENTS, _EVENTS.c.id == _SEATS.c.event_id)
            .join(_USERS, _USERS.c.id == bindparam("user_id"))
            .outerjoin(_ORGANIZATIONS, _ORGANIZATIONS.c.id == _EVENTS.c.organization_id)
            .outerjoin(_MEMBERS, membership)
            .outerjoin(_CHECKINS, _CHECKINS.c.ticket_id == _TICKETS.c.id)
        )
        .where(
            _TICKETS.c.code == bindparam("code"),
            _SEATS.c.event_id == bindparam("event_id"),
            or_(_USERS.c.is_admin, _MEMBERS.c.role.is_not(None)),
        )
        .order_by(_CHECKINS.c.id)
        .with_for_update(of=_TICKETS, key_share=True)
    )


# Built once (bound parameters only), so each scan reuses the compiled statement.
_SCAN_STATEMENTS = {"postgresql": _scan_statement("postgresql"), None: _scan_statement(None)}


def insert_checkin_unless_rescanned(session: Session, values: dict, *, scans_seen: int) -> bool:
    """Insert the check-in row `values` (its `id` included) of a ticket whose row this transaction has
    locked (`select_ticket_for_scan`), unless the ticket has more scans than the `scans_seen` that
    lock read: True when inserted.

    False means another scan of the ticket committed while `select_ticket_for_scan` waited for the
    lock (so its read missed it): read the scans again (this statement's snapshot, and any later one,
    has every scan of the ticket, since each is written under the lock now held) and decide again.
    """
    require_write_transaction(session)
    return session.connection().execute(_GUARDED_INSERT, {**values, "scans_seen": scans_seen}).rowcount == 1


def _guarded_insert():
    scans = select(func.count()).where(_CHECKINS.c.ticket_id == bindparam("ticket_id")).scalar_subquery()
    columns = [column for column in _CHECKINS.c]
    values = select(*(bindparam(column.key, type_=column.type) for column in columns)).where(
        scans == bindparam("scans_seen")
    )
    # The rowcount of an INSERT is kept only when asked for (SQLAlchemy closes its cursor at once).
    statement = insert(_CHECKINS).from_select([column.key for column in columns], values)
    return statement.execution_options(preserve_rowcount=True)


_GUARDED_INSERT = _guarded_insert()


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
