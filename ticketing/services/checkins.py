"""The door: check-in that admits each ticket exactly once, a door's retries, offline uploads, the list
a door takes offline.

A scan is one write transaction (DESIGN "Check-in is one row lock") of two statements before COMMIT:
`select_ticket_for_scan` locks the ticket's row and reads, in the same round trip, the caller's role
in the event's organization, the event, the ticket and its seat, the ticket's earlier scans (with
the answer given to this nonce, if any: a door's retry gets that first answer again and nothing is
recorded) and an id for the new scan; Python decides (`models.checkin.decide`) and words the answer;
`insert_checkin_unless_rescanned` writes the scan with its answer and id. Any number of simultaneous
scans of one ticket, on any workers and hosts, queue on that one row, so one is admitted and the
others see it: a scan that waited for the row while another scan of it committed read the scans as
they were when it started (PostgreSQL), so its INSERT, guarded by the count of the ticket's scans,
writes nothing, and it reads them again and decides again. The unique (event, code, nonce) backs
the retry rule, and backs it alone for an unknown code (no row to lock): a simultaneous duplicate
then fails its insert in a savepoint and reads the first answer.

A void ticket (refunded; the event cancelled) is refused under the same row lock that a refund takes
to void it, so a ticket is never admitted after its refund committed. `force` (a door that decided
offline and uploads later) records the scan as forced with the result it would have had, answered
as a success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from types import SimpleNamespace

import orjson
from sqlalchemy import case, insert, null, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..database import write_transaction
from ..errors import EventNotFoundError, ForbiddenError, TicketingError
from ..extensions import db
from ..models import (
    DOOR,
    DRAFT,
    OUTSIDE,
    UNKNOWN_TICKET,
    VOID,
    Checkin,
    DoorState,
    Event,
    Movement,
    Seat,
    Ticket,
    decide,
)
from .auth import refuse_token, require_token_holder
from .roles import check_role, require_role, role_of
from .row_locks import insert_checkin_unless_rescanned, reserve_checkin_id, select_ticket_for_scan
from .tickets import CODE, TicketDetails, details_of, event_door_states, movement_time

_CHECKINS = Checkin.__table__

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Scan:
    """What a door sends: the code read, its own nonce for the scan, entry or exit, and where/when."""

    code: str
    nonce: str
    kind: str  # models.checkin: entry or exit
    gate: str = ""
    scanned_at: datetime | None = None  # the door's clock; the server's when left out
    force: bool = False


@dataclass(frozen=True)
class CheckinView:
    id: int
    event_id: int
    code: str
    kind: str
    result: str
    gate: str
    forced: bool
    scanned_at: datetime
    recorded_at: datetime
    user_id: int | None


@dataclass(frozen=True)
class Outcome:
    """A decided scan, for the controller to put in words: the ticket as it stands after it (None for a
    code that is no ticket of the event) and, for `already_checked_in`, the admission that is current."""

    result: str
    forced: bool
    ticket: TicketDetails | None
    checkin: CheckinView
    inside: Movement | None


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as first given (status and JSON body), given again unchanged to a retry."""

    status: int
    body: dict


Present = Callable[[Outcome], Answer]


def _void_or_refunding(ticket) -> bool:
    """Void, or claimed by a refund in flight (services.refunds marks it before calling the gateway):
    either way the door refuses it, so a ticket is never admitted and refunded."""
    return ticket.status == VOID or ticket.refund_id is not None


def _view(row) -> CheckinView:
    return CheckinView(
        id=row.id,
        event_id=row.event_id,
        code=row.code,
        kind=row.type,
        result=row.result,
        gate=row.gate,
        forced=row.forced,
        scanned_at=row.scanned_at,
        recorded_at=row.recorded_at,
        user_id=row.user_id,
    )


def _door_event(session: Session, *, user_id: int, event_id: int) -> None:
    """Check the caller works the event's door (door, manager or owner of its organization)."""
    event = session.execute(
        select(Event.status.label("event_status"), Event.organization_id).where(Event.id == event_id)
    ).first()
    if event is None:
        raise EventNotFoundError()
    require_role(session, user_id=user_id, organization_id=event.organization_id, role=DOOR, outsider=_outsider(event))


def _outsider(event) -> TicketingError:
    """What someone with no role in the event's organization gets: a draft does not exist for them."""
    return EventNotFoundError() if event.event_status == DRAFT else ForbiddenError()


def _answer(status: int, text: str) -> Answer:
    return Answer(status=status, body=orjson.loads(text))


def _earlier_answer(session: Session, *, event_id: int, scan: Scan) -> Answer | None:
    row = session.execute(
        select(_CHECKINS.c.answer_status, _CHECKINS.c.answer).where(
            _CHECKINS.c.event_id == event_id, _CHECKINS.c.code == scan.code, _CHECKINS.c.nonce == scan.nonce
        )
    ).first()
    return None if row is None else _answer(row.answer_status, row.answer)


def _fold(rows) -> tuple[Answer | None, DoorState]:
    """A ticket's earlier scans, in the order they were recorded: the answer given to this nonce (the
    rows carry `answer` only for it), else where the ticket stands (its movements folded)."""
    for row in rows:
        if row.answer is not None:
            return _answer(row.answer_status, row.answer), OUTSIDE
    state = OUTSIDE
    for row in rows:
        at = movement_time(forced=row.forced, scanned_at=row.scanned_at, recorded_at=row.recorded_at)
        state = state.then(Movement(result=row.result, at=at, gate=row.gate))
    return None, state


def _ticket_scans(session: Session, *, ticket_id: int, nonce: str) -> tuple[Answer | None, DoorState]:
    """The ticket's earlier scans read again (the lock held): see `_fold`."""
    same = _CHECKINS.c.nonce == nonce
    rows = session.execute(
        select(
            _CHECKINS.c.result,
            _CHECKINS.c.gate,
            _CHECKINS.c.forced,
            _CHECKINS.c.scanned_at,
            _CHECKINS.c.recorded_at,
            case((same, _CHECKINS.c.answer_status), else_=null()).label("answer_status"),
            case((same, _CHECKINS.c.answer), else_=null()).label("answer"),
        )
        .where(_CHECKINS.c.ticket_id == ticket_id)
        .order_by(_CHECKINS.c.id)
    ).all()
    return _fold(rows)


@dataclass(frozen=True)
class _Decided:
    answer: Answer
    values: dict  # the check-in row, its answer included


def _decide(
    *, ticket, state: DoorState, scan: Scan, event_id: int, user_id: int, checkin_id: int, now, present: Present
) -> _Decided:
    """Decide a scan (`ticket` None: a code that is no ticket of the event) and word its answer: the
    row to record, answer included, and the answer itself."""
    result = UNKNOWN_TICKET if ticket is None else decide(kind=scan.kind, void=_void_or_refunding(ticket), state=state)
    scanned_at = scan.scanned_at or now
    values = {
        "id": checkin_id,
        "event_id": event_id,
        "ticket_id": None if ticket is None else ticket.id,
        "code": scan.code,
        "nonce": scan.nonce,
        "type": scan.kind,
        "result": result,
        "gate": scan.gate,
        "forced": scan.force,
        "scanned_at": scanned_at,
        "recorded_at": now,
        "user_id": user_id,
    }
    details = None
    if ticket is not None:
        at = movement_time(forced=scan.force, scanned_at=scanned_at, recorded_at=now)
        state = state.then(Movement(result=result, at=at, gate=scan.gate))
        details = details_of(ticket, state)
    view = _view(SimpleNamespace(**values))
    answer = present(Outcome(result=result, forced=scan.force, ticket=details, checkin=view, inside=state.inside))
    values["answer_status"], values["answer"] = answer.status, orjson.dumps(answer.body).decode()
    return _Decided(answer=answer, values=values)


def check_in(
    *, user_id: int, event_id: int, scan: Scan, clock: Clock, present: Present, token_ids: list[str]
) -> Answer:
    """Decide and record one scan; return its answer (`present` words it), or the first answer given to
    the same nonce. A refusal is recorded too: the caller turns its answer into the error. The token's
    account and whether `token_ids` were revoked are checked here (the route skips the usual lookup):
    by the locking read itself, or by the lookup for a code that is no ticket of the event.

    A ticket of the event takes three statements: the lock with everything the scan needs
    (`select_ticket_for_scan`), the INSERT of the scan with its answer, COMMIT; one more read and
    decision when another scan of the ticket committed while this one waited for the lock."""
    with write_transaction() as session:
        rows = []
        if CODE.fullmatch(scan.code):
            rows = select_ticket_for_scan(
                session, code=scan.code, event_id=event_id, user_id=user_id, nonce=scan.nonce, token_ids=token_ids
            )
        if not rows:  # no such ticket here; or the caller may not scan, or has no account any more
            require_token_holder(user_id=user_id, token_ids=token_ids)
            return _scan_no_ticket(session, user_id=user_id, event_id=event_id, scan=scan, now=clock(), present=present)
        ticket = rows[0]
        refuse_token(account=True, revoked=ticket.token_revoked)  # the read joins the user: the account exists
        role = role_of(
            is_admin=ticket.is_admin,
            organization_id=ticket.organization_id,
            organization_found=ticket.organization_found,
            membership_role=ticket.member_role,
        )
        check_role(role, DOOR, outsider=_outsider(ticket))
        scans = [row for row in rows if row.scan_id is not None]
        earlier, state = _fold(scans)
        if earlier is not None:
            return earlier
        now = clock()
        decide_now = partial(_decide, ticket=ticket, scan=scan, event_id=event_id, user_id=user_id, now=now)
        decided = decide_now(state=state, present=present, checkin_id=ticket.next_id)
        if not insert_checkin_unless_rescanned(session, decided.values, scans_seen=len(scans)):
            # Another scan of this ticket committed while the lock was awaited: decide on every scan,
            # under an id taken now, after that scan's (a ticket's scans are folded in id order).
            earlier, state = _ticket_scans(session, ticket_id=ticket.id, nonce=scan.nonce)
            if earlier is not None:
                return earlier
            decided = decide_now(state=state, present=present, checkin_id=_new_id(session))
            _insert(session, decided.values)
    return decided.answer


def _new_id(session: Session) -> int:
    return session.execute(select(reserve_checkin_id(session.get_bind().dialect.name))).scalar_one()


def _insert(session: Session, values: dict) -> None:
    session.connection().execute(insert(_CHECKINS).values(**values))


def _scan_no_ticket(session: Session, *, user_id: int, event_id: int, scan: Scan, now, present: Present) -> Answer:
    """A scan whose code is no ticket of the event (or a caller who may not scan, refused here).
    Nothing is locked: a simultaneous scan with the same nonce may insert first; the unique
    (event, code, nonce) then refuses this one's row inside a savepoint, and its answer is read."""
    _door_event(session, user_id=user_id, event_id=event_id)
    earlier = _earlier_answer(session, event_id=event_id, scan=scan)
    if earlier is not None:
        return earlier
    decided = _decide(
        ticket=None,
        state=OUTSIDE,
        scan=scan,
        event_id=event_id,
        user_id=user_id,
        checkin_id=_new_id(session),
        now=now,
        present=present,
    )
    try:
        with session.begin_nested():
            _insert(session, decided.values)
    except IntegrityError:
        earlier = _earlier_answer(session, event_id=event_id, scan=scan)
        if earlier is None:
            raise
        return earlier
    return decided.answer


def list_checkins(*, user_id: int, event_id: int, after: int, limit: int) -> tuple[list[CheckinView], int | None]:
    """The event's scans in the order they were recorded, after the scan `after`; and the `after` of
    the next page (None on the last)."""
    session = db.session
    _door_event(session, user_id=user_id, event_id=event_id)
    rows = session.execute(
        select(Checkin).where(Checkin.event_id == event_id, Checkin.id > after).order_by(Checkin.id).limit(limit + 1)
    ).scalars()
    views = [_view(row) for row in rows]
    if len(views) > limit:
        return views[:limit], views[limit - 1].id
    return views, None


@dataclass(frozen=True)
class DoorTicket:
    code: str
    status: str
    label: str
    section: str
    row: str
    number: int
    checked_in_at: datetime | None
    inside: Movement | None


@dataclass(frozen=True)
class DoorList:
    event_id: int
    event_name: str
    event_starts_at: datetime | None
    tickets: list[DoorTicket]
    last_checkin_id: int | None  # send as `after` to GET /events/<id>/checkins for what came since


def door_list(*, user_id: int, event_id: int) -> DoorList:
    """Every ticket of the event (valid and void) with where it stands at the door: what a door needs
    to decide offline: one read of the movements, one of the tickets. The last scan's id is read
    first, so a scan recorded meanwhile is at worst both in the states and in the next page after it."""
    session = db.session
    _door_event(session, user_id=user_id, event_id=event_id)
    event = session.execute(select(Event.name, Event.starts_at).where(Event.id == event_id)).one()
    last = session.scalar(select(Checkin.id).where(Checkin.event_id == event_id).order_by(Checkin.id.desc()).limit(1))
    states = event_door_states(session, event_id)
    rows = session.execute(
        select(Ticket.id, Ticket.code, Ticket.status, Seat.label, Seat.section, Seat.row, Seat.number)
        .join(Seat, Seat.id == Ticket.seat_id)
        .where(Seat.event_id == event_id)
        .order_by(Seat.id)
    )
    tickets = []
    for row in rows:
        state = states.get(row.id, OUTSIDE)
        tickets.append(
            DoorTicket(
                code=row.code,
                status=row.status,
                label=row.label,
                section=row.section,
                row=row.row,
                number=row.number,
                checked_in_at=state.checked_in_at,
                inside=state.inside,
            )
        )
    return DoorList(
        event_id=event_id, event_name=event.name, event_starts_at=event.starts_at, tickets=tickets, last_checkin_id=last
    )
