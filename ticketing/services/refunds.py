"""Refunds: give money back once, void the tickets and put their seats back on sale.

1. `_begin_refund`, under the order's row lock: check who asks and what may be refunded, record a
   `processing` refund (its tickets, its amount, its Idempotency-Key), commit.
2. `_give_back`: ask the gateway to refund, with the refund's `reference` as its idempotency key
   (no transaction open). A refusal marks the refund `failed`: nothing changed, the same key retries.
3. `_apply_refund`, under the order's row lock again: void the tickets, free their seats (the seat
   ledger's `free_sold`) and count the money on the order, all in one transaction.

If the process dies between 2 and 3 the refund stays `processing`: the same Idempotency-Key again,
or the sweeper (`reconcile_refunds`, run by `expire-holds`) after a while, asks the gateway again
with the same reference (which refunds once) and applies it. One refund of an order is in flight at
a time, so two refunds can never give the same ticket's money back twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..database import write_transaction
from ..errors import (
    ForbiddenError,
    InvalidRequestError,
    OrderNotFoundError,
    OrderNotRefundableError,
    PaymentGatewayError,
    RefundInProgressError,
    TicketNotFoundError,
    TicketNotRefundableError,
)
from ..extensions import db
from ..models import (
    ADMITTED,
    MANAGER,
    PAID,
    PARTIALLY_REFUNDED,
    REFUND_FAILED,
    REFUND_PROCESSING,
    REFUND_SUCCEEDED,
    REFUNDED,
    VALID,
    VOID,
    Checkin,
    Event,
    Order,
    Payment,
    Refund,
    Seat,
    Ticket,
    role_includes,
)
from ..models.payment import SUCCEEDED as SUCCEEDED_PAYMENT
from ..models.refund import refund_reference
from . import audit, ledger
from .gateways import PaymentGateway
from .orders import OrderView, order_views
from .payments import fresh_row, wait_while
from .roles import member_role
from .row_locks import select_order_for_update, select_seats_for_update

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class RefundView:
    id: int
    amount_cents: int
    currency: str
    ticket_codes: list[str]
    order: OrderView


@dataclass(frozen=True)
class _GatewayCall:
    """Step 1 recorded a refund that needs money moved: ask the gateway."""

    refund_id: int
    reference: str
    charge_id: str
    amount_cents: int


@dataclass(frozen=True)
class _Earlier:
    """Step 1 found (or made and applied) the refund whose outcome is the answer."""

    refund_id: int


def refund_order(
    *,
    user_id: int | None,
    order_id: int,
    ticket_codes: list[str] | None,
    reason: str | None,
    idempotency_key: str | None,
    clock: Clock,
    gateway: PaymentGateway,
    authorize: bool = True,
    wait_seconds: float = 10.0,
) -> RefundView:
    """Refund the order's tickets named (all its valid ones when None); return the refund.

    `authorize=False` is the event's cancellation acting for a manager already checked (or for the
    sweeper, user None).
    """
    if ticket_codes is not None and len(set(ticket_codes)) != len(ticket_codes):
        raise InvalidRequestError(details={"ticket_codes": ["A ticket appears more than once."]})
    start = _begin_refund(
        user_id=user_id,
        order_id=order_id,
        ticket_codes=ticket_codes,
        reason=reason,
        idempotency_key=idempotency_key,
        clock=clock,
        authorize=authorize,
    )
    if isinstance(start, _Earlier):
        return _replay(start.refund_id, clock=clock, gateway=gateway, wait_seconds=wait_seconds)
    _give_back(gateway, start, now=clock())
    _apply_refund(start.refund_id, now=clock())
    return _answer_of(start.refund_id, now=clock())


def _begin_refund(
    *,
    user_id: int | None,
    order_id: int,
    ticket_codes: list[str] | None,
    reason: str | None,
    idempotency_key: str | None,
    clock: Clock,
    authorize: bool,
) -> _GatewayCall | _Earlier:
    """Step 1: decide under the order's row lock what to refund, and record it."""
    try:
        with write_transaction() as session:
            order = select_order_for_update(session, order_id=order_id, user_id=None)
            now = clock()
            event = session.get(Event, order.event_id)
            if authorize:
                _check_may_refund(session, user_id=user_id, order=order, event=event, now=now)
            earlier = _refund_with_key(session, order.id, idempotency_key)
            if earlier is not None and earlier.status != REFUND_FAILED:
                return _Earlier(earlier.id)
            if order.status not in (PAID, PARTIALLY_REFUNDED):
                raise OrderNotRefundableError(_not_refundable(order.status))
            if _in_flight(session, order.id):
                raise RefundInProgressError()
            tickets = _tickets_to_refund(session, order.id, ticket_codes)
            amount = sum(ticket.price_cents for ticket in tickets)
            charge_id = session.scalar(
                select(Payment.charge_id).where(Payment.order_id == order.id, Payment.status == SUCCEEDED_PAYMENT)
            )
            refund = earlier or Refund(order_id=order.id, event_id=order.event_id, idempotency_key=idempotency_key)
            refund.requested_by = user_id
            refund.ticket_ids = [ticket.id for ticket in tickets]
            refund.amount_cents, refund.currency = amount, order.currency
            refund.reason, refund.charge_id, refund.message = reason, charge_id, None
            refund.status, refund.updated_at = REFUND_PROCESSING, now
            refund.created_at = refund.created_at or now
            session.add(refund)
            session.flush()
            _claim_tickets(session, refund)
            if amount == 0 or charge_id is None:
                # No money to move (free seats): void at once, in this transaction.
                _apply_locked(session, order, refund, now)
                return _Earlier(refund.id)
            return _GatewayCall(
                refund_id=refund.id, reference=refund.reference, charge_id=charge_id, amount_cents=amount
            )
    except IntegrityError:
        # The same new Idempotency-Key twice at once: the other request recorded it first.
        db.session.rollback()
        return _Earlier(_refund_with_key(db.session, order_id, idempotency_key).id)


def _check_may_refund(session: Session, *, user_id: int | None, order: Order, event: Event, now: datetime) -> None:
    """A manager of the event's organization may refund any order of it; the buyer their own while
    the event's `buyer_refunds_until` has not passed. Anyone else meets a missing order."""
    role = member_role(session, user_id=user_id, organization_id=event.organization_id)
    if role is not None and role_includes(role, MANAGER):
        return
    if order.user_id == user_id:
        until = event.buyer_refunds_until
        if until is None:
            raise OrderNotRefundableError("This event's organizer does not take refunds from buyers.")
        if now >= until:
            raise OrderNotRefundableError("Refunds for this event closed at " + until.isoformat() + "Z.")
        return
    if role is not None:
        raise ForbiddenError(f"Refunds need the role manager in the organization; yours is {role}.")
    raise OrderNotFoundError()


def _not_refundable(status: str) -> str:
    if status == REFUNDED:
        return "The order is refunded already."
    return f"Only a paid order can be refunded; this one is {status.replace('_', ' ')}."


def _refund_with_key(session: Session, order_id: int, idempotency_key: str | None) -> Refund | None:
    if idempotency_key is None:
        return None
    query = select(Refund).where(Refund.order_id == order_id, Refund.idempotency_key == idempotency_key)
    return session.scalar(query.execution_options(populate_existing=True))


def _in_flight(session: Session, order_id: int) -> bool:
    query = select(Refund.id).where(Refund.order_id == order_id, Refund.status == REFUND_PROCESSING).limit(1)
    return session.scalar(query) is not None


def checked_in_ticket_ids(session: Session, ticket_ids: list[int]) -> set[int]:
    """Those of the tickets that were admitted at the door at least once (they cannot be refunded).

    Read in the caller's transaction; a refund holds the order's row lock, and a check-in the ticket's,
    so a scan racing a refund is decided by whichever voids or admits first (the other sees it)."""
    if not ticket_ids:
        return set()
    rows = session.execute(
        select(Checkin.ticket_id)
        .where(Checkin.ticket_id.in_(sorted(set(ticket_ids))), Checkin.result == ADMITTED)
        .distinct()
    )
    return {row.ticket_id for row in rows}


def _tickets_to_refund(session: Session, order_id: int, ticket_codes: list[str] | None) -> list:
    """The order's tickets to refund: those named, each valid and not checked in; or all such.

    The tickets' rows are locked first (the lock a check-in takes), so no scan admits one of them
    between this read of their check-ins and the mark `_claim_tickets` puts on them."""
    rows = session.execute(
        select(Ticket.id, Ticket.code, Ticket.status, Ticket.seat_id, Seat.price_cents)
        .join(Seat, Seat.id == Ticket.seat_id)
        .where(Ticket.order_id == order_id)
        .order_by(Ticket.id)
        .with_for_update(of=Ticket, key_share=True)
    ).all()
    checked_in = checked_in_ticket_ids(session, [row.id for row in rows])
    if ticket_codes is None:
        chosen = [row for row in rows if row.status == VALID and row.id not in checked_in]
        if not chosen:
            raise TicketNotRefundableError("No ticket of this order can be refunded: each is void or checked in.")
        return chosen
    by_code = {row.code: row for row in rows}
    unknown = [code for code in ticket_codes if code not in by_code]
    if unknown:
        raise TicketNotFoundError(f"This order has no ticket {', '.join(unknown)}.", details={"ticket_codes": unknown})
    refused = [code for code in ticket_codes if by_code[code].status != VALID or by_code[code].id in checked_in]
    if refused:
        raise TicketNotRefundableError(
            f"Tickets {', '.join(refused)} are void already or checked in; nothing was refunded.",
            details={"ticket_codes": refused},
        )
    return [by_code[code] for code in ticket_codes]


def _claim_tickets(session: Session, refund: Refund) -> None:
    """Mark the refund's tickets as on their way to void (`refund_id`): from this commit the door
    refuses them like void ones, so a ticket is never both admitted and refunded. A refund that fails
    takes its mark off again (`_mark_failed`)."""
    session.execute(
        update(Ticket)
        .where(Ticket.id.in_(refund.ticket_ids), Ticket.status == VALID)
        .values(refund_id=refund.id)
        .execution_options(synchronize_session=False)
    )


def _give_back(gateway: PaymentGateway, call: _GatewayCall, *, now: datetime) -> None:
    """Step 2: the gateway call, with no transaction open. A refusal marks the refund failed."""
    db.session.close()  # no snapshot or connection held while the gateway thinks
    try:
        gateway.refund(charge_id=call.charge_id, amount_cents=call.amount_cents, reference=call.reference)
    except Exception as error:
        log.warning("refund %s: the gateway did not refund (%s)", call.refund_id, error.__class__.__name__)
        _mark_failed(call.refund_id, now, str(error)[:255])
        raise PaymentGatewayError(
            "The payment gateway did not refund; nothing changed. Try again with the same Idempotency-Key."
        ) from None


def _mark_failed(refund_id: int, now: datetime, message: str) -> None:
    with write_transaction() as session:
        order_id = session.scalar(select(Refund.order_id).where(Refund.id == refund_id))
        select_order_for_update(session, order_id=order_id, user_id=None)
        refund = session.get(Refund, refund_id, populate_existing=True)
        if refund.status == REFUND_PROCESSING:
            refund.status, refund.updated_at, refund.message = REFUND_FAILED, now, message
            session.execute(
                update(Ticket)
                .where(Ticket.refund_id == refund_id, Ticket.status == VALID)
                .values(refund_id=None)
                .execution_options(synchronize_session=False)
            )


def _apply_refund(refund_id: int, *, now: datetime) -> None:
    """Step 3: the gateway gave the money back; void, free and count it (once: a settled refund is left)."""
    with write_transaction() as session:
        order_id = session.scalar(select(Refund.order_id).where(Refund.id == refund_id))
        order = select_order_for_update(session, order_id=order_id, user_id=None)
        refund = session.get(Refund, refund_id, populate_existing=True)
        if refund.status != REFUND_PROCESSING:
            return
        _apply_locked(session, order, refund, now)


def _apply_locked(session: Session, order: Order, refund: Refund, now: datetime) -> None:
    """Void the refund's tickets and free their seats in this transaction (the order's row is locked)."""
    seat_ids = session.scalars(select(Ticket.seat_id).where(Ticket.id.in_(refund.ticket_ids))).all()
    seats = select_seats_for_update(session, seat_ids)
    session.execute(
        update(Ticket)
        .where(Ticket.id.in_(refund.ticket_ids), Ticket.status == VALID)
        .values(status=VOID, voided_at=now, refund_id=refund.id)
        .execution_options(synchronize_session=False)
    )
    ledger.free_sold(session, seats)
    order.refunded_cents = (order.refunded_cents or 0) + refund.amount_cents
    still_valid = session.scalar(select(Ticket.id).where(Ticket.order_id == order.id, Ticket.status == VALID).limit(1))
    order.status = PARTIALLY_REFUNDED if still_valid is not None else REFUNDED
    refund.status, refund.updated_at = REFUND_SUCCEEDED, now
    event = session.get(Event, order.event_id)
    codes = session.scalars(select(Ticket.code).where(Ticket.id.in_(refund.ticket_ids)).order_by(Ticket.seat_id))
    audit.record(
        session,
        user_id=refund.requested_by,
        action=audit.REFUND,
        at=now,
        organization_id=event.organization_id,
        event_id=event.id,
        details={
            "order_id": order.id,
            "refund_id": refund.id,
            "amount_cents": refund.amount_cents,
            "currency": refund.currency,
            "ticket_codes": list(codes),
            "reason": refund.reason,
            "idempotency_key": refund.idempotency_key,
        },
    )


def _replay(refund_id: int, *, clock: Clock, gateway: PaymentGateway, wait_seconds: float) -> RefundView:
    """The answer of a refund asked again with the same Idempotency-Key.

    One still `processing` was interrupted after the gateway call, or is being made by a request
    still running: asking the gateway again with the same reference refunds once either way, so
    ask and apply; if the gateway will not say, wait for the other request's answer.
    """
    refund = fresh_row(Refund, refund_id)
    if refund.status == REFUND_PROCESSING and refund.charge_id is not None:
        try:
            gateway.refund(charge_id=refund.charge_id, amount_cents=refund.amount_cents, reference=refund.reference)
        except Exception:
            log.info("refund %s: the gateway did not confirm it on a replay; waiting for the first request", refund_id)
        else:
            _apply_refund(refund_id, now=clock())
    wait_while(lambda: fresh_row(Refund, refund_id).status == REFUND_PROCESSING, wait_seconds, RefundInProgressError)
    return _answer_of(refund_id, now=clock())


def _answer_of(refund_id: int, *, now: datetime) -> RefundView:
    """The answer a settled refund stands for: the refund and its order, or the gateway's refusal."""
    refund = fresh_row(Refund, refund_id)
    if refund.status == REFUND_FAILED:
        raise PaymentGatewayError(
            "The payment gateway did not refund; nothing changed. Try again with the same Idempotency-Key."
        )
    if refund.status == REFUND_PROCESSING:
        raise RefundInProgressError()
    codes = db.session.scalars(select(Ticket.code).where(Ticket.id.in_(refund.ticket_ids)).order_by(Ticket.seat_id))
    order = db.session.get(Order, refund.order_id)
    return RefundView(
        id=refund.id,
        amount_cents=refund.amount_cents,
        currency=refund.currency,
        ticket_codes=list(codes),
        order=order_views(db.session, [order], now)[0],
    )


@dataclass(frozen=True)
class RefundReconciliation:
    applied: int
    failed: int


def reconcile_refunds(*, now: datetime, gateway: PaymentGateway, stale_after_seconds: int = 60) -> RefundReconciliation:
    """Finish refunds left `processing` (the process died around the gateway call): ask the gateway
    again with the same reference (it refunds once) and apply; a refusal marks them failed."""
    applied = failed = 0
    stale = db.session.execute(
        select(Refund.id, Refund.charge_id, Refund.amount_cents).where(
            Refund.status == REFUND_PROCESSING, Refund.updated_at <= now - timedelta(seconds=stale_after_seconds)
        )
    ).all()
    db.session.rollback()
    for refund_id, charge_id, amount in stale:
        if charge_id is not None:
            try:
                gateway.refund(charge_id=charge_id, amount_cents=amount, reference=refund_reference(refund_id))
            except Exception as error:
                _mark_failed(refund_id, now, str(error)[:255])
                failed += 1
                continue
        _apply_refund(refund_id, now=now)
        applied += 1
    return RefundReconciliation(applied=applied, failed=failed)
