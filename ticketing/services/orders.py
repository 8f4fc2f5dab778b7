"""Orders: take several seats at once for one user, all or none, until paid or expired."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..database import write_transaction
from ..errors import (
    HoldLimitReachedError,
    InvalidRequestError,
    OrderNotCancellableError,
    OrphanSeatError,
    SeatBlockedError,
    SeatNotFoundError,
    SeatsUnavailableError,
)
from ..extensions import db
from ..models import (
    AVAILABLE,
    BLOCKED,
    CANCELLED,
    EXPIRED,
    LOCKED,
    PENDING_PAYMENT,
    Order,
    OrderSeat,
    Payment,
    Seat,
    Ticket,
    effective_status,
)
from ..models.payment import PROCESSING
from . import ledger, wording
from .ledger import HoldLimits
from .orphans import orphaned_seats
from .row_locks import (
    select_order_for_update,
    select_seats_for_update,
    select_user_for_update,
)
from .sales import require_on_sale, require_visible
from .seats import Clock


@dataclass(frozen=True)
class TicketView:
    code: str
    seat_id: int
    label: str
    status: str = "valid"  # valid, or void once refunded


@dataclass(frozen=True)
class OrderView:
    id: int
    event_id: int
    status: str
    seat_ids: list[int]
    total_cents: int
    currency: str
    expires_at: datetime
    created_at: datetime
    tickets: list[TicketView]
    refunded_cents: int = 0


def _available_to(seat, user_id: int, now: datetime) -> bool:
    # Free, or the caller's own plain lock (which the order takes over); never another order's seat.
    state = effective_status(seat.status, seat.locked_until, now)
    if state == AVAILABLE:
        return True
    return state == LOCKED and seat.holder_id == user_id and seat.order_id is None


def create_order(
    *, user_id: int, seat_ids: list[int], clock: Clock, checkout_seconds: int, limits: HoldLimits
) -> OrderView:
    """Take every seat for the user until `now + checkout_seconds` in a pending order, or none.

    The event must sell at `now` (read after the row locks); a draft of another organization's is as
    absent as missing seats; a blocked seat refuses the whole order.
    """
    if not seat_ids:
        raise InvalidRequestError(details={"seat_ids": ["Give at least one seat."]})
    if len(set(seat_ids)) != len(seat_ids):
        raise InvalidRequestError(details={"seat_ids": ["A seat appears more than once."]})
    with write_transaction() as session:
        select_user_for_update(session, user_id)
        seats = select_seats_for_update(session, seat_ids)
        now = clock()
        missing = sorted(set(seat_ids) - {seat.id for seat in seats})
        if missing:
            raise SeatNotFoundError(wording.missing_seats(missing))
        event_ids = {seat.event_id for seat in seats}
        if len(event_ids) > 1:
            for event_id in sorted(event_ids):  # a draft's seats are missing ones to outsiders, even here
                hidden = _as_missing(seat for seat in seats if seat.event_id == event_id)
                require_visible(session, event_id=event_id, user_id=user_id, hidden=hidden)
            raise InvalidRequestError(details={"seat_ids": ["All seats of an order must belong to one event."]})
        event = require_on_sale(
            session, event_id=next(iter(event_ids)), user_id=user_id, now=now, hidden=_as_missing(seats)
        )
        blocked = [seat.id for seat in seats if seat.status == BLOCKED]
        if blocked:
            raise SeatBlockedError(
                f"Seats {', '.join(map(str, blocked))} are not for sale.", details={"blocked": blocked}
            )
        unavailable = [seat.id for seat in seats if not _available_to(seat, user_id, now)]
        if unavailable:
            raise SeatsUnavailableError(
                wording.unavailable_seats(seats, unavailable, user_id=user_id, now=now),
                details={"unavailable": unavailable},
            )
        event_id = event_ids.pop()
        orphans = orphaned_seats(
            session, event_id=event_id, seats=seats, now=now, refuses_orphans=event.no_orphan_seats
        )
        if orphans:
            raise OrphanSeatError(
                wording.orphaned_seats([label for _id, label in orphans]),
                details={"orphans": [seat_id for seat_id, _label in orphans]},
            )
        already_mine = sum(1 for seat in seats if effective_status(seat.status, seat.locked_until, now) == LOCKED)
        held_elsewhere = ledger.count_live_holds(session, user_id=user_id, event_id=event_id, now=now) - already_mine
        if held_elsewhere + len(seats) > limits.per_user:
            raise HoldLimitReachedError(
                f"This order would make {held_elsewhere + len(seats)} seats held in this event; "
                f"the most allowed is {limits.per_user}."
            )
        new_for_address = len(seats) - sum(
            1
            for seat in seats
            if seat.held_from == limits.address and effective_status(seat.status, seat.locked_until, now) == LOCKED
        )
        by_address = ledger.count_address_holds(session, address=limits.address, event_id=event_id, now=now)
        if limits.address and by_address + new_for_address > limits.per_address:
            raise HoldLimitReachedError(
                f"This order would make {by_address + new_for_address} seats held in this event from your "
                f"network address; the most allowed is {limits.per_address}."
            )
        order = Order(
            user_id=user_id,
            event_id=event_id,
            status=PENDING_PAYMENT,
            currency=event.currency,
            total_cents=sum(seat.price_cents for seat in seats),
            expires_at=now + timedelta(seconds=checkout_seconds),
            created_at=now,
        )
        session.add(order)
        session.flush()
        session.add_all(OrderSeat(order_id=order.id, seat_id=seat.id) for seat in seats)
        ledger.put_in_order(
            session, seats, user_id=user_id, order_id=order.id, until=order.expires_at, address=limits.address
        )
        # A new order: no payment and no ticket yet.
        taken = sorted(seat.id for seat in seats)
        view = order_view(order, seat_ids=taken, tickets=[], now=now, payment_in_flight=False)
    return view


def _as_missing(seats) -> SeatNotFoundError:
    """The answer for seats the caller may not see: the one a missing seat gets."""
    return SeatNotFoundError(f"No seat with id {', '.join(str(seat.id) for seat in seats)}.")


def order_seats_for_update(session: Session, orders: list[Order]) -> list:
    """Lock the rows of every seat the orders were for (held by them still or not), by id."""
    order_ids = {order.id for order in orders}
    if not order_ids:
        return []
    seat_ids = session.scalars(select(OrderSeat.seat_id).where(OrderSeat.order_id.in_(order_ids))).all()
    return select_seats_for_update(session, seat_ids)


def release_order_seats(session: Session, orders: list[Order]) -> None:
    """Give back the seats the orders still hold (the order rows are locked by the caller)."""
    seats = order_seats_for_update(session, orders)
    ledger.release(session, ledger.seats_held_by_orders(seats, {order.id for order in orders}))


def has_payment_in_flight(session: Session, order_id: int) -> bool:
    """True when a payment of the order was sent to the gateway and its outcome is not recorded yet."""
    query = select(Payment.id).where(Payment.order_id == order_id, Payment.status == PROCESSING).limit(1)
    return session.scalar(query) is not None


def cancel_order(*, user_id: int, order_id: int, clock: Clock) -> OrderView:
    """Cancel the user's pending order and free its seats."""
    with write_transaction() as session:
        order = select_order_for_update(session, order_id=order_id, user_id=user_id)
        now = clock()
        if order.status == PENDING_PAYMENT and has_payment_in_flight(session, order.id):
            raise OrderNotCancellableError("A payment for this order is being processed.")
        state = order.status_at(now)
        if state != PENDING_PAYMENT:
            raise OrderNotCancellableError(wording.order_not_cancellable(state))
        order.status = CANCELLED
        release_order_seats(session, [order])
        view = order_views(session, [order], now)[0]
    return view


def expire_orders(*, now: datetime, batch_size: int = 500, event_id: int | None = None) -> int:
    """Write `expired` on pending orders past their time (of one event, or all) and free their seats;
    return how many. An order with a payment in flight is left to reconciliation.
    """
    expired = 0
    in_flight = select(Payment.id).where(Payment.order_id == Order.id, Payment.status == PROCESSING).exists()
    overdue = select(Order).where(Order.status == PENDING_PAYMENT, Order.expires_at <= now, ~in_flight)
    if event_id is not None:
        overdue = overdue.where(Order.event_id == event_id)
    overdue = overdue.order_by(Order.id).limit(batch_size).with_for_update(skip_locked=True)
    while True:
        with write_transaction() as session:
            orders = session.scalars(overdue.execution_options(populate_existing=True)).all()
            for order in orders:
                order.status = EXPIRED
            release_order_seats(session, list(orders))
            expired += len(orders)
        if len(orders) < batch_size:
            return expired


def get_order(*, user_id: int, order_id: int, now: datetime) -> OrderView | None:
    """The user's order, or None (also for another user's order)."""
    order = db.session.get(Order, order_id)
    if order is None or order.user_id != user_id:
        return None
    return order_views(db.session, [order], now)[0]


def list_orders(*, user_id: int, now: datetime) -> list[OrderView]:
    """The user's orders, newest first."""
    orders = db.session.scalars(select(Order).where(Order.user_id == user_id).order_by(Order.id.desc())).all()
    return order_views(db.session, list(orders), now)


def order_views(session: Session, orders: list[Order], now: datetime) -> list[OrderView]:
    """Views of the orders with their seats and tickets, in four queries whatever their number."""
    ids = [order.id for order in orders]
    seat_ids: dict[int, list[int]] = defaultdict(list)
    tickets: dict[int, list[TicketView]] = defaultdict(list)
    in_flight: set[int] = set()
    if ids:
        in_flight = set(
            session.scalars(select(Payment.order_id).where(Payment.order_id.in_(ids), Payment.status == PROCESSING))
        )
        for order_id, seat_id in session.execute(
            select(OrderSeat.order_id, OrderSeat.seat_id).where(OrderSeat.order_id.in_(ids)).order_by(OrderSeat.seat_id)
        ):
            seat_ids[order_id].append(seat_id)
        for order_id, code, seat_id, label, status in session.execute(
            select(Ticket.order_id, Ticket.code, Ticket.seat_id, Seat.label, Ticket.status)
            .join(Seat, Seat.id == Ticket.seat_id)
            .where(Ticket.order_id.in_(ids))
            .order_by(Ticket.seat_id)
        ):
            tickets[order_id].append(TicketView(code=code, seat_id=seat_id, label=label, status=status))
    return [
        order_view(
            order,
            seat_ids=seat_ids[order.id],
            tickets=tickets[order.id],
            now=now,
            payment_in_flight=order.id in in_flight,
        )
        for order in orders
    ]


def order_view(
    order: Order, *, seat_ids: list[int], tickets: list[TicketView], now: datetime, payment_in_flight: bool
) -> OrderView:
    """The view of one order whose seats (ids in ascending order) and tickets the caller has in hand:
    a write that just made or paid the order answers without reading back what it wrote."""
    return OrderView(
        id=order.id,
        event_id=order.event_id,
        status=order.status_at(now, payment_in_flight=payment_in_flight),
        seat_ids=seat_ids,
        total_cents=order.total_cents,
        currency=order.currency,
        expires_at=order.expires_at,
        created_at=order.created_at,
        tickets=tickets,
        refunded_cents=order.refunded_cents or 0,
    )
