"""The door: check-in that admits each ticket exactly once, a door's retries, offline uploads, the list
a door takes offline.

A scan is one write transaction (DESIGN "Check-in is one row lock"): read the caller's role, lock the
ticket's row (`select_ticket_for_update`), look for an earlier scan with the same nonce (a door's
retry gets that first answer again and nothing is recorded), read the ticket's earlier movements,
decide (`models.checkin.decide`), insert the scan with its answer, commit. Any number of
simultaneous scans of one ticket, on any workers and hosts, queue on that one row, so one is
admitted and the others see it. The unique (event, code, nonce) backs the retry rule, and backs it
alone for an unknown code (no row to lock): a simultaneous duplicate then fails its insert in a
savepoint and reads the first answer.

A void ticket (refunded; the event cancelled) is refused under the same row lock that a refund takes
to void it, so a ticket is never admitted after its refund committed. `force` (a door that decided
offline and uploads later) records the scan as forced with the result it would have had, answered
as a success.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import case, insert, null, select, update
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
from .roles import require_role
from .row_locks import select_ticket_for_update
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
    event = session.execute(select(Event.status, Event.organization_id).where(Event.id == event_id)).first()
    if event is None:
        raise EventNotFoundError()
    outsider: TicketingError = EventNotFoundError() if event.status == DRAFT else ForbiddenError()
    require_role(session, user_id=user_id, organization_id=event.organization_id, role=DOOR, outsider=outsider)


def _earlier_answer(session: Session, *, event_id: int, scan: Scan) -> Answer | None:
    row = session.execute(
        select(_CHECKINS.c.answer_status, _CHECKINS.c.answer).where(
            _CHECKINS.c.event_id == event_id, _CHECKINS.c.code == scan.code, _CHECKINS.c.nonce == scan.nonce
        )
    ).first()
    return None if row is None else Answer(status=row.answer_status, body=json.loads(row.answer))


def _ticket_scans(session: Session, *, ticket_id: int, nonce: str) -> tuple[Answer | None, DoorState]:
    """One read of the ticket's earlier scans: the answer given to this nonce (if any), and where the
    ticket stands (its movements folded in the order they were recorded)."""
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
    for row in rows:
        if row.answer is not None:
            return Answer(status=row.answer_status, body=json.loads(row.answer)), OUTSIDE
    state = OUTSIDE
    for row in rows:
        at = movement_time(forced=row.forced, scanned_at=row.scanned_at, recorded_at=row.recorded_at)
        state = state.then(Movement(result=row.result, at=at, gate=row.gate))
    return None, state


def _insert(session: Session, values: dict) -> int:
    return session.connection().execute(insert(_CHECKINS).values(**values).returning(_CHECKINS.c.id)).scalar_one()


def check_in(*, user_id: int, event_id: int, scan: Scan, clock: Clock, present: Present) -> Answer:
    """Decide and record one scan; return its answer (`present` words it), or the first answer given to
    the same nonce. A refusal is recorded too: the caller turns its answer into the error."""
    with write_transaction() as session:
        _door_event(session, user_id=user_id, event_id=event_id)
        ticket = select_ticket_for_update(session, scan.code) if CODE.fullmatch(scan.code) else None
        if ticket is not None and ticket.event_id != event_id:
            ticket = None  # another event's ticket is unknown here
        if ticket is None:
            earlier, state = _earlier_answer(session, event_id=event_id, scan=scan), OUTSIDE
        else:
            earlier, state = _ticket_scans(session, ticket_id=ticket.id, nonce=scan.nonce)
        if earlier is not None:
            return earlier
        now = clock()
        result = (
            UNKNOWN_TICKET if ticket is None else decide(kind=scan.kind, void=_void_or_refunding(ticket), state=state)
        )
        values = {
            "event_id": event_id,
            "ticket_id": None if ticket is None else ticket.id,
            "code": scan.code,
            "nonce": scan.nonce,
            "type": scan.kind,
            "result": result,
            "gate": scan.gate,
            "forced": scan.force,
            "scanned_at": scan.scanned_at or now,
            "recorded_at": now,
            "user_id": user_id,
            "answer_status": 0,
            "answer": "",
        }
        if ticket is None:
            # Nothing is locked: a simultaneous scan with the same nonce may insert first.
            try:
                with session.begin_nested():
                    checkin_id = _insert(session, values)
            except IntegrityError:
                earlier = _earlier_answer(session, event_id=event_id, scan=scan)
                if earlier is None:
                    raise
                return earlier
        else:
            checkin_id = _insert(session, values)
        view = _view(SimpleNamespace(id=checkin_id, **values))
        details = None
        if ticket is not None:
            at = movement_time(forced=scan.force, scanned_at=values["scanned_at"], recorded_at=now)
            state = state.then(Movement(result=result, at=at, gate=scan.gate))
            details = details_of(ticket, state)
        answer = present(Outcome(result=result, forced=scan.force, ticket=details, checkin=view, inside=state.inside))
        session.connection().execute(
            update(_CHECKINS)
            .where(_CHECKINS.c.id == checkin_id)
            .values(answer_status=answer.status, answer=json.dumps(answer.body, separators=(",", ":")))
        )
    return answer


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
