"""What organizers read about an event: its report, its attendees (CSV), its orders, its audit log.

Reads only, for the event's managers (services.roles). The report is counted in one snapshot
(REPEATABLE READ on PostgreSQL; SQLite's read transaction is one snapshot already), so its numbers
agree with each other and with a direct count of the database at one moment. The attendee list is
read through one streamed cursor, a batch at a time, so its memory does not grow with the event.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy.orm import Session

from ..errors import EventNotFoundError, ForbiddenError, TicketingError
from ..extensions import db
from ..models import (
    ADMITTED,
    AVAILABLE,
    BLOCKED,
    BOOKED,
    DRAFT,
    EXPIRED,
    LOCKED,
    MANAGER,
    PAID_STATUSES,
    PENDING_PAYMENT,
    VALID,
    VOID,
    Checkin,
    Event,
    Order,
    Payment,
    Seat,
    Ticket,
    User,
    effective_status_sql,
)
from ..models.payment import PROCESSING
from .orders import order_views
from .roles import require_role

_STREAM_BATCH = 1000


def require_manager(session: Session, *, user_id: int, event_id: int) -> Event:
    """The event, if the user manages it: a draft is missing to outsiders, an event buyers see forbidden."""
    event = session.get(Event, event_id)
    if event is None:
        raise EventNotFoundError()
    outsider: TicketingError = EventNotFoundError() if event.status == DRAFT else ForbiddenError()
    require_role(session, user_id=user_id, organization_id=event.organization_id, role=MANAGER, outsider=outsider)
    return event


def _begin_snapshot(session: Session) -> None:
    """Start a read transaction whose every statement sees the same committed state."""
    session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))


@dataclass(frozen=True)
class CategoryLine:
    category: str | None
    price_cents: int
    booked: int
    revenue_cents: int


@dataclass(frozen=True)
class EventReport:
    seats: dict[str, int]
    tickets: dict[str, int]
    gross_cents: int
    refunded_cents: int
    currency: str
    by_category: list[CategoryLine]

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.refunded_cents


def event_report(*, user_id: int, event_id: int, now: datetime) -> EventReport:
    """Seats by state, tickets by state, money in and given back, and sales by category, at one moment."""
    session = db.session
    event = require_manager(session, user_id=user_id, event_id=event_id)
    currency = event.currency
    _begin_snapshot(session)
    try:
        seats = dict.fromkeys((AVAILABLE, LOCKED, BOOKED, BLOCKED), 0)
        state = effective_status_sql(now).label("state")
        for name, count in session.execute(
            select(state, func.count()).where(Seat.event_id == event_id).group_by(state)
        ):
            seats[name] = seats.get(name, 0) + count
        tickets = {VALID: 0, VOID: 0, "checked_in": 0}
        for ticket_status, count in session.execute(
            select(Ticket.status, func.count())
            .join(Seat, Seat.id == Ticket.seat_id)
            .where(Seat.event_id == event_id)
            .group_by(Ticket.status)
        ):
            tickets[ticket_status] = count
        tickets["checked_in"] = session.scalar(  # admitted at least once (services.checkins)
            select(func.count(func.distinct(Checkin.ticket_id))).where(
                Checkin.event_id == event_id, Checkin.result == ADMITTED, Checkin.ticket_id.is_not(None)
            )
        )
        money = session.execute(
            select(
                func.coalesce(func.sum(Order.total_cents), 0), func.coalesce(func.sum(Order.refunded_cents), 0)
            ).where(Order.event_id == event_id, Order.status.in_(PAID_STATUSES))
        ).one()
        sold = and_(Ticket.status == VALID, Ticket.order_id.is_not(None))
        lines = session.execute(
            select(
                Seat.category,
                Seat.price_cents,
                func.count(Ticket.id).filter(Ticket.status == VALID),
                func.coalesce(func.sum(case((sold, Seat.price_cents), else_=0)), 0),
            )
            .select_from(Seat)
            .outerjoin(Ticket, and_(Ticket.seat_id == Seat.id, Ticket.status == VALID))
            .where(Seat.event_id == event_id)
            .group_by(Seat.category, Seat.price_cents)
            .order_by(Seat.price_cents.desc(), Seat.category)
        ).all()
    finally:
        session.rollback()
    return EventReport(
        seats=seats,
        tickets=tickets,
        gross_cents=int(money[0]),
        refunded_cents=int(money[1]),
        currency=currency,
        by_category=[
            CategoryLine(category=category, price_cents=price, booked=int(booked), revenue_cents=int(revenue))
            for category, price, booked, revenue in lines
        ],
    )


ATTENDEE_COLUMNS = (
    "ticket_code",
    "seat",
    "section",
    "row",
    "number",
    "category",
    "price",
    "order_id",
    "buyer_email",
    "status",
    "checked_in_at",
)


def attendee_rows(*, event_id: int) -> Iterator[tuple]:
    """Every ticket of the event (valid and void), by seat, streamed a batch at a time:
    (code, label, section, row, number, category, price_cents, order_id, email, status, checked_in_at)."""
    # The latest admission of each ticket (a forced upload counts from when the door scanned it).
    at = case((Checkin.forced, Checkin.scanned_at), else_=Checkin.recorded_at)
    admitted = (
        select(Checkin.ticket_id, func.max(at).label("checked_in_at"))
        .where(Checkin.event_id == event_id, Checkin.result == ADMITTED)
        .group_by(Checkin.ticket_id)
        .subquery()
    )
    query = (
        select(
            Ticket.code,
            Seat.label,
            Seat.section,
            Seat.row,
            Seat.number,
            Seat.category,
            Seat.price_cents,
            Ticket.order_id,
            User.email,
            Ticket.status,
            admitted.c.checked_in_at,
        )
        .join(Seat, Seat.id == Ticket.seat_id)
        .join(User, User.id == Ticket.user_id)
        .outerjoin(admitted, admitted.c.ticket_id == Ticket.id)
        .where(Seat.event_id == event_id)
        .order_by(Seat.id, Ticket.id)
        .execution_options(stream_results=True, yield_per=_STREAM_BATCH)
    )
    db.session.rollback()
    try:
        yield from db.session.execute(query)
    finally:
        db.session.rollback()


@dataclass(frozen=True)
class OrderLine:
    order: Order
    buyer_id: int
    buyer_email: str


def _status_condition(status: str, now: datetime):
    in_flight = select(Payment.id).where(Payment.order_id == Order.id, Payment.status == PROCESSING).exists()
    ran_out = and_(Order.status == PENDING_PAYMENT, Order.expires_at <= now, ~in_flight)
    if status == EXPIRED:
        return or_(Order.status == EXPIRED, ran_out)
    if status == PENDING_PAYMENT:
        return and_(Order.status == PENDING_PAYMENT, ~ran_out)
    return Order.status == status


def event_orders(
    *, event_id: int, status: str | None, limit: int, after: int | None, now: datetime
) -> tuple[list[OrderLine], int | None]:
    """The event's orders, oldest first, with their buyers: a keyset page after the order id `after`."""
    query = select(Order, User.id, User.email).join(User, User.id == Order.user_id).where(Order.event_id == event_id)
    if status is not None:
        query = query.where(_status_condition(status, now))
    if after is not None:
        query = query.where(Order.id > after)
    rows = db.session.execute(query.order_by(Order.id).limit(limit + 1)).all()
    more = len(rows) > limit
    lines = [OrderLine(order=order, buyer_id=user_id, buyer_email=email) for order, user_id, email in rows[:limit]]
    return lines, (lines[-1].order.id if more else None)


def order_views_of(orders: list[Order], now: datetime) -> list:
    """The orders as buyers see them (services.orders.order_views), for the organizer's list."""
    return order_views(db.session, orders, now)


def check_manager(*, user_id: int, event_id: int) -> None:
    """Raise unless the user manages the event (see `require_manager`)."""
    require_manager(db.session, user_id=user_id, event_id=event_id)
