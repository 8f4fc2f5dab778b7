"""Cancelling an event: every pending order cancelled, every paid order refunded, every ticket void.

`cancel_event` marks the event `cancelled` (under its row lock, written in the audit log) and then
`finish_cancellation` releases its plain holds (they could be confirmed into tickets) and works
through its orders, one short transaction each, with the same steps a
refund takes (services.refunds). Each paid order's refund has the Idempotency-Key `event-cancelled`,
so a repeat of the call, a second call at the same time, or the sweeper after a crash (kill -9 in
the middle) finds the refund already made, or finishes it, and never refunds an order twice.

Buyers paying meanwhile: from the moment the status commits, `pay` refuses the event's orders and a
charge that arrives for one is refunded (services.payments), never booked. An order created or paid
by a transaction that read the event before that moment is still pending or paid when the next pass
looks, so it is cancelled or refunded too; passes repeat until one finds nothing left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from ..database import write_transaction
from ..errors import (
    OrderNotRefundableError,
    PaymentGatewayError,
    RefundInProgressError,
    TicketNotRefundableError,
)
from ..extensions import db
from ..models import (
    CANCELLATION_KEY,
    CANCELLED,
    EVENT_CANCELLED,
    LOCKED,
    PAID,
    PARTIALLY_REFUNDED,
    PENDING_PAYMENT,
    REFUND_SUCCEEDED,
    VALID,
    VOID,
    Event,
    Order,
    Refund,
    Seat,
    Ticket,
)
from . import audit, catalogue, ledger
from .catalogue import EventSummary
from .gateways import PaymentGateway
from .orders import release_order_seats
from .organizer import organizer_event
from .refunds import refund_order
from .row_locks import select_seats_for_update

Clock = Callable[[], datetime]
_BATCH = 200
_MAX_PASSES = 5


@dataclass(frozen=True)
class Cancellation:
    event: EventSummary
    refunded_orders: int  # orders of the event refunded by its cancellation, over every call
    refunds_failed: int  # orders whose refund the gateway refused this time (retried by the sweeper)


def cancel_event(*, user_id: int, event_id: int, clock: Clock, gateway: PaymentGateway) -> Cancellation:
    """Cancel the event (a manager's call; a repeat finishes what is left and answers the same)."""
    with write_transaction() as session:
        event = organizer_event(session, user_id=user_id, event_id=event_id)
        now = clock()
        if event.status != EVENT_CANCELLED:
            previous = event.status
            session.execute(update(Event).where(Event.id == event_id).values(status=EVENT_CANCELLED))
            audit.record(
                session,
                user_id=user_id,
                action=audit.CANCEL_EVENT,
                at=now,
                organization_id=event.organization_id,
                event_id=event_id,
                details={"previous_status": previous},
            )
    failed = finish_cancellation(event_id=event_id, user_id=user_id, clock=clock, gateway=gateway)
    summary = catalogue.get_event(event_id=event_id, now=clock(), viewer_id=user_id)
    assert summary is not None
    return Cancellation(event=summary, refunded_orders=refunded_orders(event_id), refunds_failed=failed)


def refunded_orders(event_id: int) -> int:
    """How many of the event's orders its cancellation refunded."""
    query = select(func.count()).where(
        Refund.event_id == event_id, Refund.idempotency_key == CANCELLATION_KEY, Refund.status == REFUND_SUCCEEDED
    )
    count = db.session.scalar(query) or 0
    db.session.rollback()
    return count


def finish_cancellation(*, event_id: int, user_id: int | None, clock: Clock, gateway: PaymentGateway) -> int:
    """Cancel the cancelled event's pending orders, refund its paid ones, void its free tickets, until a
    pass finds nothing to do; return how many refunds the gateway refused in the last pass."""
    failed = 0
    for _ in range(_MAX_PASSES):
        released = _release_holds(event_id)
        cancelled = _cancel_pending_orders(event_id, now=clock())
        refunded, failed, busy = _refund_paid_orders(event_id, user_id=user_id, clock=clock, gateway=gateway)
        voided = _void_free_tickets(event_id, now=clock())
        if not (released or cancelled or refunded or voided or busy):
            break
    return failed


def _release_holds(event_id: int) -> int:
    """Release the event's plain holds (no order): a hold cannot be confirmed into a ticket any more."""
    done = 0
    while True:
        with write_transaction() as session:
            ids = session.scalars(
                select(Seat.id)
                .where(Seat.event_id == event_id, Seat.status == LOCKED, Seat.order_id.is_(None))
                .order_by(Seat.id)
                .limit(_BATCH)
            ).all()
            seats = [
                seat
                for seat in select_seats_for_update(session, ids)
                if seat.status == LOCKED and seat.order_id is None
            ]
            ledger.release(session, seats)
        done += len(seats)
        if len(ids) < _BATCH:
            return done


def _cancel_pending_orders(event_id: int, *, now: datetime) -> int:
    """Cancel the event's pending orders (a payment in flight too: its charge will be refunded)."""
    done = 0
    pending = (
        select(Order)
        .where(Order.event_id == event_id, Order.status == PENDING_PAYMENT)
        .order_by(Order.id)
        .limit(_BATCH)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    while True:
        with write_transaction() as session:
            orders = list(session.scalars(pending))
            for order in orders:
                order.status = CANCELLED
            release_order_seats(session, orders)
        done += len(orders)
        if len(orders) < _BATCH:
            return done


def _refund_paid_orders(
    event_id: int, *, user_id: int | None, clock: Clock, gateway: PaymentGateway
) -> tuple[int, int, int]:
    """Refund every paid order's valid tickets, one order at a time: (refunded, refused, in flight)."""
    refunded = failed = busy = 0
    after = 0
    while True:
        order_ids = db.session.scalars(
            select(Order.id)
            .where(Order.event_id == event_id, Order.status.in_((PAID, PARTIALLY_REFUNDED)), Order.id > after)
            .order_by(Order.id)
            .limit(_BATCH)
        ).all()
        db.session.rollback()
        for order_id in order_ids:
            try:
                refund_order(
                    user_id=user_id,
                    order_id=order_id,
                    ticket_codes=None,
                    reason="The event was cancelled.",
                    idempotency_key=CANCELLATION_KEY,
                    clock=clock,
                    gateway=gateway,
                    authorize=False,
                    wait_seconds=2.0,
                )
                refunded += 1
            except PaymentGatewayError:
                failed += 1
            except RefundInProgressError:
                busy += 1  # another refund of the order is under way: the next pass looks again
            except (OrderNotRefundableError, TicketNotRefundableError):
                pass  # refunded meanwhile, or nothing left that can be
        if len(order_ids) < _BATCH:
            return refunded, failed, busy
        after = order_ids[-1]


def _void_free_tickets(event_id: int, *, now: datetime) -> int:
    """Void the event's valid tickets of free seats (confirmed without an order) and free their seats."""
    done = 0
    while True:
        with write_transaction() as session:
            rows = session.execute(
                select(Ticket.id, Ticket.seat_id)
                .join(Seat, Seat.id == Ticket.seat_id)
                .where(Seat.event_id == event_id, Ticket.order_id.is_(None), Ticket.status == VALID)
                .order_by(Ticket.seat_id)
                .limit(_BATCH)
            ).all()
            seats = select_seats_for_update(session, [row.seat_id for row in rows])
            session.execute(
                update(Ticket)
                .where(Ticket.id.in_([row.id for row in rows]), Ticket.status == VALID)
                .values(status=VOID, voided_at=now)
                .execution_options(synchronize_session=False)
            )
            ledger.free_sold(session, seats)
        done += len(rows)
        if len(rows) < _BATCH:
            return done


def unfinished_cancellations() -> list[int]:
    """Cancelled events that still have a pending or paid order, or a valid ticket (for the sweeper)."""
    open_orders = select(Order.event_id).where(
        Order.status.in_((PENDING_PAYMENT, PAID, PARTIALLY_REFUNDED)), Order.event_id == Event.id
    )
    valid_tickets = (
        select(Ticket.id).join(Seat, Seat.id == Ticket.seat_id).where(Seat.event_id == Event.id, Ticket.status == VALID)
    )
    ids = db.session.scalars(
        select(Event.id).where(Event.status == EVENT_CANCELLED, open_orders.exists() | valid_tickets.exists())
    ).all()
    db.session.rollback()
    return list(ids)
