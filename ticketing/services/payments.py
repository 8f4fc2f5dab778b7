"""Paying an order: record the attempt, charge, then settle — so a charge is never lost.

1. `_begin_payment`, under the order's row lock: check the order, record a `processing` payment, commit.
2. `_charge`: call the gateway with the payment's `reference` as its idempotency key (no lock held).
3. `settle_payment`, under the order's row lock again: a success books the seats if the order still
   holds every one (the order is paid, one ticket per seat); if someone took a seat after the order
   ran out, the charge is refunded. A decline frees the seats; a gateway failure changes nothing.

If the process dies between 2 and 3, the payment stays `processing`. A retry with the same
Idempotency-Key asks the gateway what became of that reference and settles it at once
(`_replay`); otherwise `reconcile_payments` (the sweeper) does the same after a while. While a
payment is unsettled the order reads `pending_payment`, never `expired`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..database import write_transaction
from ..errors import (
    InvalidRequestError,
    OrderExpiredError,
    OrderNotPayableError,
    PaymentDeclinedError,
    PaymentGatewayError,
    PaymentInProgressError,
)
from ..extensions import db
from ..models import (
    CANCELLED,
    EVENT_CANCELLED,
    EXPIRED,
    PAID,
    PAYMENT_FAILED,
    PENDING_PAYMENT,
    Event,
    Order,
    Payment,
    Ticket,
)
from ..models.payment import (
    ABANDONED,
    DECLINED,
    FAILED,
    PROCESSING,
    REFUND_PENDING,
    REFUNDED,
    SUCCEEDED,
    payment_reference,
)
from . import gateways, ledger, wording
from .gateways import ChargeOutcome, PaymentGateway
from .orders import (
    OrderView,
    TicketView,
    has_payment_in_flight,
    order_seats_for_update,
    order_view,
    order_views,
    release_order_seats,
)
from .row_locks import select_order_for_update
from .seats import Clock, new_ticket_code

log = logging.getLogger(__name__)
_CANCELLED_BEFORE_PAYMENT = "The event was cancelled before the payment arrived."


@dataclass(frozen=True)
class ChargeRequest:
    """Step 1 recorded a new attempt: charge it."""

    payment_id: int
    reference: str
    amount_cents: int
    currency: str
    token: str


@dataclass(frozen=True)
class EarlierPayment:
    """Step 1 found (or made and settled) a payment whose outcome is the answer."""

    payment_id: int


@dataclass(frozen=True)
class OrderRanOut:
    """Step 1 found the order past its time (and wrote that down)."""


PaymentStart = ChargeRequest | EarlierPayment | OrderRanOut


def pay_order(
    *,
    user_id: int,
    order_id: int,
    payment_token: str | None,
    idempotency_key: str | None,
    clock: Clock,
    gateway: PaymentGateway,
    wait_seconds: float = 10.0,
) -> OrderView:
    """Pay the user's pending order; return it paid, or raise the reason it is not."""
    start = _begin_payment(
        user_id=user_id,
        order_id=order_id,
        payment_token=payment_token,
        idempotency_key=idempotency_key,
        clock=clock,
        provider=gateway.name,
    )
    if isinstance(start, OrderRanOut):
        raise OrderExpiredError()
    if isinstance(start, EarlierPayment):
        return _replay(start.payment_id, clock=clock, gateway=gateway, wait_seconds=wait_seconds)
    outcome = _charge(gateway, start)
    paid = settle_payment(payment_id=start.payment_id, outcome=outcome, now=clock(), gateway=gateway)
    return paid if paid is not None else _answer_of(start.payment_id, now=clock())


def _begin_payment(
    *,
    user_id: int,
    order_id: int,
    payment_token: str | None,
    idempotency_key: str | None,
    clock: Clock,
    provider: str,
) -> PaymentStart:
    """Step 1: decide under the order's row lock whether to charge, and record the attempt."""
    try:
        with write_transaction() as session:
            order = select_order_for_update(session, order_id=order_id, user_id=user_id)
            now = clock()
            earlier = _payment_with_key(session, order.id, idempotency_key)
            if earlier is not None and earlier.status not in (FAILED, ABANDONED):
                return EarlierPayment(earlier.id)
            if order.status == PENDING_PAYMENT and has_payment_in_flight(session, order.id):
                raise PaymentInProgressError()
            if _expire_if_ran_out(session, order, now):
                return OrderRanOut()
            _check_payable(order, now, payment_token)
            if _event_cancelled(session, order):
                raise OrderNotPayableError("The event was cancelled: this order can no longer be paid.")
            payment = _record_attempt(session, order, earlier, idempotency_key, payment_token, provider, now)
            if order.total_cents == 0:
                # Nothing to charge: settle at once, in this transaction.
                _settle_locked(session, order, payment, ChargeOutcome(gateways.SUCCEEDED), now)
                return EarlierPayment(payment.id)
            return ChargeRequest(
                payment_id=payment.id,
                reference=payment.reference,
                amount_cents=payment.amount_cents,
                currency=payment.currency,
                token=payment_token,
            )
    except IntegrityError:
        # The same new Idempotency-Key twice at once: the other request recorded it first.
        return EarlierPayment(_payment_with_key(db.session, order_id, idempotency_key).id)


def _payment_with_key(session: Session, order_id: int, idempotency_key: str | None) -> Payment | None:
    if idempotency_key is None:
        return None
    query = select(Payment).where(Payment.order_id == order_id, Payment.idempotency_key == idempotency_key)
    return session.scalar(query)


def _expire_if_ran_out(session: Session, order: Order, now: datetime) -> bool:
    """True when the order is past its time (no payment in flight); its seats are given back."""
    if order.status_at(now) != EXPIRED:
        return False
    if order.status == PENDING_PAYMENT:
        order.status = EXPIRED
        release_order_seats(session, [order])
    return True


def _event_cancelled(session: Session, order: Order) -> bool:
    """True when the order's event is cancelled (read after the order's row lock: a cancellation
    committed before it is seen, and one committing after it finds this order still to do)."""
    return session.scalar(select(Event.status).where(Event.id == order.event_id)) == EVENT_CANCELLED


def _check_payable(order: Order, now: datetime, payment_token: str | None) -> None:
    state = order.status_at(now)
    if state != PENDING_PAYMENT:
        raise OrderNotPayableError(wording.order_not_payable(state))
    if order.total_cents > 0 and not payment_token:
        raise InvalidRequestError(details={"payment_token": ["Required: the order has a price."]})


def _record_attempt(
    session: Session,
    order: Order,
    earlier: Payment | None,
    idempotency_key: str | None,
    payment_token: str | None,
    provider: str,
    now: datetime,
) -> Payment:
    """A `processing` payment row: new, or the next attempt of a failed one with the same key."""
    payment = earlier or Payment(order_id=order.id, idempotency_key=idempotency_key, created_at=now)
    if earlier is not None:
        payment.attempt += 1
    charged = order.total_cents > 0
    payment.provider = provider if charged else "none"
    payment.token = payment_token if charged else None
    payment.amount_cents, payment.currency = order.total_cents, order.currency
    payment.status, payment.updated_at = PROCESSING, now
    session.add(payment)
    session.flush()
    return payment


def _charge(gateway: PaymentGateway, request: ChargeRequest) -> ChargeOutcome:
    """Step 2: the gateway call, with no transaction open."""
    db.session.close()  # no snapshot or connection held while the gateway thinks
    try:
        return gateway.charge(
            reference=request.reference,
            amount_cents=request.amount_cents,
            currency=request.currency,
            token=request.token,
        )
    except Exception:
        # Unknown whether money moved: the payment stays `processing` until a retry or the sweeper asks.
        log.exception("payment %s: gateway call failed", request.payment_id)
        raise PaymentGatewayError(
            "The payment gateway did not answer; pay again with the same Idempotency-Key to settle it."
        ) from None


def _fulfil(session: Session, order: Order, now: datetime) -> list[TicketView] | None:
    """Book the order's seats and issue tickets, if the order still holds every one of them; return
    the tickets issued (by seat id), or None when it could not."""
    seats = order_seats_for_update(session, [order])
    if not seats or len(ledger.seats_held_by_orders(seats, {order.id})) != len(seats):
        return None
    ledger.book(session, seats)
    tickets = [
        Ticket(code=new_ticket_code(), seat_id=seat.id, user_id=order.user_id, order_id=order.id) for seat in seats
    ]
    session.add_all(tickets)
    order.status, order.paid_at = PAID, now
    labels = {seat.id: seat.label for seat in seats}
    return sorted(
        (TicketView(code=ticket.code, seat_id=ticket.seat_id, label=labels[ticket.seat_id]) for ticket in tickets),
        key=lambda ticket: ticket.seat_id,
    )


@dataclass(frozen=True)
class Settlement:
    """What applying a gateway's outcome did: whether a refund is owed, and the tickets issued (None
    unless the order was paid now)."""

    owes_refund: bool
    tickets: list[TicketView] | None = None


def _settle_locked(
    session: Session, order: Order, payment: Payment, outcome: ChargeOutcome, now: datetime
) -> Settlement:
    """Record the gateway's outcome (order and payment rows locked)."""
    payment.updated_at, payment.message = now, outcome.message or None
    if outcome.status == gateways.SUCCEEDED:
        payment.charge_id = outcome.charge_id
        cancelled = _event_cancelled(session, order)
        tickets = _fulfil(session, order, now) if order.status == PENDING_PAYMENT and not cancelled else None
        if tickets is not None:
            payment.status = SUCCEEDED
            return Settlement(owes_refund=False, tickets=tickets)
        # Charged, but the event was cancelled meanwhile, or a seat went to someone else after the
        # order ran out: give the money back (never book a cancelled event's seats).
        payment.status = REFUND_PENDING
        if cancelled or order.status == CANCELLED:
            payment.message = _CANCELLED_BEFORE_PAYMENT
        else:
            payment.message = "The order expired and its seats were taken before the payment arrived."
        if order.status == PENDING_PAYMENT:
            order.status = CANCELLED if cancelled else EXPIRED
            release_order_seats(session, [order])
        return Settlement(owes_refund=payment.amount_cents > 0)
    if outcome.status == gateways.DECLINED:
        payment.status = DECLINED
        if order.status == PENDING_PAYMENT:
            order.status = PAYMENT_FAILED
            release_order_seats(session, [order])
        return Settlement(owes_refund=False)
    payment.status = FAILED
    return Settlement(owes_refund=False)


def settle_payment(
    *, payment_id: int, outcome: ChargeOutcome, now: datetime, gateway: PaymentGateway
) -> OrderView | None:
    """Step 3: apply the gateway's outcome to a `processing` payment (a settled one is left alone).
    Returns the order's view when this call paid it (built from what the transaction wrote), else None."""
    with write_transaction() as session:
        order_id = session.scalar(select(Payment.order_id).where(Payment.id == payment_id))
        order = select_order_for_update(session, order_id=order_id, user_id=None)
        payment = session.scalar(
            select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
        )
        if payment.status != PROCESSING:
            return None
        settlement = _settle_locked(session, order, payment, outcome, now)
        charge_id, amount = payment.charge_id, payment.amount_cents
        paid = None
        if settlement.tickets is not None:
            seat_ids = [ticket.seat_id for ticket in settlement.tickets]
            paid = order_view(order, seat_ids=seat_ids, tickets=settlement.tickets, now=now, payment_in_flight=False)
    if settlement.owes_refund:
        refund_payment(payment_id=payment_id, charge_id=charge_id, amount_cents=amount, gateway=gateway, now=now)
    return paid


def refund_payment(
    *, payment_id: int, charge_id: str, amount_cents: int, gateway: PaymentGateway, now: datetime
) -> bool:
    """Give a charge back; the payment stays `refund_pending` (retried by reconciliation) if it fails."""
    try:
        gateway.refund(charge_id=charge_id, amount_cents=amount_cents)
    except Exception:
        log.exception("payment %s: refund failed; reconciliation will retry", payment_id)
        return False
    with write_transaction() as session:
        payment = session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
        if payment.status == REFUND_PENDING:
            payment.status, payment.updated_at = REFUNDED, now
    return True


def _replay(payment_id: int, *, clock: Clock, gateway: PaymentGateway, wait_seconds: float) -> OrderView:
    """The answer of a request repeated with the same Idempotency-Key.

    A payment still `processing` was either interrupted after the charge (the gateway knows the
    outcome: settle it now) or is being charged by a request still running (wait for its answer).
    """
    payment = fresh_row(Payment, payment_id)
    if payment.status == PROCESSING and payment.provider != "none":
        outcome = gateway.find_charge(reference=payment.reference, token=payment.token)
        if outcome is not None:
            settle_payment(payment_id=payment_id, outcome=outcome, now=clock(), gateway=gateway)
    wait_while(lambda: fresh_row(Payment, payment_id).status == PROCESSING, wait_seconds, PaymentInProgressError)
    return _answer_of(payment_id, now=clock())


def wait_while(in_flight: Callable[[], bool], wait_seconds: float, give_up: type[Exception]) -> None:
    """Look again every 50 ms while `in_flight()` (another request is settling it); raise `give_up()`
    when it still is after `wait_seconds`. Shared by payments and refunds replayed by their key."""
    deadline = time.monotonic() + wait_seconds
    while in_flight():
        if time.monotonic() >= deadline:
            raise give_up()
        time.sleep(0.05)


def fresh_row(model, row_id: int):
    """The row as committed now (a fresh snapshot on each look): what a wait for a settlement reads."""
    db.session.rollback()
    return db.session.get(model, row_id, populate_existing=True)


def _answer_of(payment_id: int, *, now: datetime) -> OrderView:
    """The answer a settled payment stands for: the paid order, or the error it ended in."""
    payment = fresh_row(Payment, payment_id)
    if payment.status == SUCCEEDED:
        order = db.session.get(Order, payment.order_id)
        return order_views(db.session, [order], now)[0]
    if payment.status == DECLINED:
        raise PaymentDeclinedError(
            f"{payment.message or 'The payment was declined.'} The order's seats are free again."
        )
    if payment.status in (REFUND_PENDING, REFUNDED) and payment.message == _CANCELLED_BEFORE_PAYMENT:
        raise OrderNotPayableError("The event was cancelled before the payment arrived; the charge is refunded.")
    if payment.status in (REFUND_PENDING, REFUNDED):
        raise OrderExpiredError(
            "The order expired and its seats were taken before the payment arrived; the charge is refunded."
        )
    if payment.status == PROCESSING:
        raise PaymentInProgressError()
    raise PaymentGatewayError()


@dataclass(frozen=True)
class ReconcileReport:
    settled: int
    abandoned: int
    refunded: int


def reconcile_payments(*, now: datetime, gateway: PaymentGateway, stale_after_seconds: int = 120) -> ReconcileReport:
    """Settle payments left `processing` (the process died mid-payment) and retry owed refunds."""
    settled = abandoned = refunded = 0
    stale = db.session.execute(
        select(Payment.id, Payment.attempt, Payment.token).where(
            Payment.status == PROCESSING, Payment.updated_at <= now - timedelta(seconds=stale_after_seconds)
        )
    ).all()
    db.session.rollback()
    for payment_id, attempt, token in stale:
        outcome = gateway.find_charge(reference=payment_reference(payment_id, attempt), token=token)
        if outcome is None:
            abandoned += _abandon(payment_id, now)
            continue
        settle_payment(payment_id=payment_id, outcome=outcome, now=now, gateway=gateway)
        settled += 1
    owed = db.session.execute(
        select(Payment.id, Payment.charge_id, Payment.amount_cents).where(Payment.status == REFUND_PENDING)
    ).all()
    db.session.rollback()
    for payment_id, charge_id, amount in owed:
        refunded += refund_payment(
            payment_id=payment_id, charge_id=charge_id, amount_cents=amount, gateway=gateway, now=now
        )
    return ReconcileReport(settled=settled, abandoned=abandoned, refunded=refunded)


def _abandon(payment_id: int, now: datetime) -> bool:
    """Mark a payment the gateway never saw as abandoned (the order may be paid again)."""
    with write_transaction() as session:
        payment = session.get(Payment, payment_id, with_for_update=True, populate_existing=True)
        if payment.status != PROCESSING:
            return False
        payment.status, payment.updated_at = ABANDONED, now
        return True
