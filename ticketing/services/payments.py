"""Paying an order: record the attempt, charge, then settle — so a charge is never lost.

1. Under the order's row lock: check the order, then record a `processing` payment and commit.
2. Call the gateway with the payment's `reference` as its idempotency key (no lock held).
3. Under the order's row lock again: settle. A success books the seats if the order still holds
   every one (then the order is paid, one ticket per seat); if someone took a seat after the order
   ran out, the charge is refunded. A decline frees the seats; a gateway failure changes nothing.

If the process dies between 2 and 3, the payment stays `processing`: `reconcile_payments` (run by
`flask expire-holds`) asks the gateway what became of that reference and settles it the same way.
A repeated request with the same Idempotency-Key gets the first answer and charges nothing.
"""

from __future__ import annotations

import logging
import time
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
from ..models import EXPIRED, LOCKED, PAID, PAYMENT_FAILED, PENDING_PAYMENT, Order, OrderSeat, Payment, Ticket
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
from . import gateways
from .gateways import ChargeOutcome, PaymentGateway
from .locking import lock_seats
from .orders import OrderView, has_payment_in_flight, lock_order, order_views, release_order_seats
from .seats import new_ticket_code
from .versions import seats_changed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Attempt:
    """What step 1 decided: charge this payment, or answer from an earlier one."""

    payment_id: int
    charge: bool
    reference: str = ""
    amount_cents: int = 0
    currency: str = ""
    token: str = ""


def pay_order(
    *,
    user_id: int,
    order_id: int,
    payment_token: str | None,
    idempotency_key: str | None,
    now: datetime,
    gateway: PaymentGateway,
    wait_seconds: float = 10.0,
) -> OrderView:
    """Pay the user's pending order; return it paid, or raise the reason it is not."""
    try:
        attempt = _record_attempt(
            user_id=user_id,
            order_id=order_id,
            payment_token=payment_token,
            idempotency_key=idempotency_key,
            now=now,
            provider=gateway.name,
        )
    except IntegrityError:
        # The same new Idempotency-Key twice at once: the other request recorded it first.
        attempt = _Attempt(payment_id=_payment_id_for(order_id, idempotency_key), charge=False)
    if not attempt.charge:
        return _answer_of(attempt.payment_id, now=now, wait_seconds=wait_seconds)
    try:
        outcome = gateway.charge(
            reference=attempt.reference,
            amount_cents=attempt.amount_cents,
            currency=attempt.currency,
            token=attempt.token,
        )
    except Exception:
        # Unknown whether money moved: the payment stays `processing` until reconciled.
        log.exception("payment %s: gateway call failed", attempt.payment_id)
        raise PaymentGatewayError(
            "The payment gateway did not answer; the payment will be checked and settled shortly."
        ) from None
    settle_payment(payment_id=attempt.payment_id, outcome=outcome, now=now, gateway=gateway)
    return _answer_of(attempt.payment_id, now=now, wait_seconds=0)


def _payment_id_for(order_id: int, idempotency_key: str | None) -> int:
    db.session.rollback()
    query = select(Payment.id).where(Payment.order_id == order_id, Payment.idempotency_key == idempotency_key)
    return db.session.scalar(query)


def _record_attempt(
    *,
    user_id: int,
    order_id: int,
    payment_token: str | None,
    idempotency_key: str | None,
    now: datetime,
    provider: str,
) -> _Attempt:
    expired = False
    with write_transaction() as session:
        order = lock_order(session, order_id=order_id, user_id=user_id)
        previous = None
        if idempotency_key is not None:
            previous = session.scalar(
                select(Payment).where(Payment.order_id == order.id, Payment.idempotency_key == idempotency_key)
            )
            if previous is not None and previous.status not in (FAILED, ABANDONED):
                return _Attempt(payment_id=previous.id, charge=False)
        state = order.status_at(now)
        if state == EXPIRED:
            if order.status == PENDING_PAYMENT and not has_payment_in_flight(session, order.id):
                order.status = EXPIRED
                release_order_seats(session, [order])
            expired = True
        elif state != PENDING_PAYMENT:
            raise OrderNotPayableError(f"The order is {state.replace('_', ' ')}; it cannot be paid.")
        elif has_payment_in_flight(session, order.id):
            raise PaymentInProgressError()
        elif order.total_cents > 0 and not payment_token:
            raise InvalidRequestError(details={"payment_token": ["Required: the order has a price."]})
        else:
            payment = previous or Payment(order_id=order.id, idempotency_key=idempotency_key, created_at=now)
            if previous is not None:
                payment.attempt += 1
            payment.provider = provider if order.total_cents > 0 else "none"
            payment.token = payment_token if order.total_cents > 0 else None
            payment.amount_cents, payment.currency = order.total_cents, order.currency
            payment.status, payment.updated_at = PROCESSING, now
            session.add(payment)
            session.flush()
            if order.total_cents == 0:
                # Nothing to charge: settle at once, in this transaction.
                _settle_locked(session, order, payment, ChargeOutcome(gateways.SUCCEEDED), now)
                return _Attempt(payment_id=payment.id, charge=False)
            attempt = _Attempt(
                payment_id=payment.id,
                charge=True,
                reference=payment.reference,
                amount_cents=payment.amount_cents,
                currency=payment.currency,
                token=payment_token,
            )
    if expired:
        raise OrderExpiredError()
    return attempt


def _fulfil(session: Session, order: Order, now: datetime) -> bool:
    """Book the order's seats and issue tickets, if the order still holds every one of them."""
    seat_ids = session.scalars(select(OrderSeat.seat_id).where(OrderSeat.order_id == order.id)).all()
    seats = lock_seats(session, seat_ids)
    if len(seats) != len(seat_ids) or any(seat.order_id != order.id or seat.status != LOCKED for seat in seats):
        return False
    for seat in seats:
        seat.book()
        session.add(Ticket(code=new_ticket_code(), seat_id=seat.id, user_id=order.user_id, order_id=order.id))
    seats_changed(session, [(seat.event_id, seat.id) for seat in seats])
    order.status, order.paid_at = PAID, now
    return True


def _settle_locked(session: Session, order: Order, payment: Payment, outcome: ChargeOutcome, now: datetime) -> bool:
    """Record the gateway's outcome (order and payment rows locked); True when a refund is owed."""
    payment.updated_at, payment.message = now, outcome.message or None
    if outcome.status == gateways.SUCCEEDED:
        payment.charge_id = outcome.charge_id
        if order.status == PENDING_PAYMENT and _fulfil(session, order, now):
            payment.status = SUCCEEDED
            return False
        # Charged, but a seat went to someone else after the order ran out: give the money back.
        payment.status = REFUND_PENDING
        payment.message = "The order expired and its seats were taken before the payment arrived."
        if order.status == PENDING_PAYMENT:
            order.status = EXPIRED
            release_order_seats(session, [order])
        return payment.amount_cents > 0
    if outcome.status == gateways.DECLINED:
        payment.status = DECLINED
        if order.status == PENDING_PAYMENT:
            order.status = PAYMENT_FAILED
            release_order_seats(session, [order])
        return False
    payment.status = FAILED
    return False


def settle_payment(*, payment_id: int, outcome: ChargeOutcome, now: datetime, gateway: PaymentGateway) -> None:
    """Step 3: apply the gateway's outcome to a `processing` payment (a settled one is left alone)."""
    with write_transaction() as session:
        order_id = session.scalar(select(Payment.order_id).where(Payment.id == payment_id))
        order = lock_order(session, order_id=order_id, user_id=None)
        payment = session.scalar(
            select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
        )
        if payment.status != PROCESSING:
            return
        owes_refund = _settle_locked(session, order, payment, outcome, now)
        charge_id, amount = payment.charge_id, payment.amount_cents
    if owes_refund:
        refund_payment(payment_id=payment_id, charge_id=charge_id, amount_cents=amount, gateway=gateway, now=now)


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
        payment = session.get(Payment, payment_id, with_for_update=True)
        if payment.status == REFUND_PENDING:
            payment.status, payment.updated_at = REFUNDED, now
    return True


def _answer_of(payment_id: int, *, now: datetime, wait_seconds: float) -> OrderView:
    """The answer a payment stands for: the paid order, or the error it ended in."""
    deadline = time.monotonic() + wait_seconds
    while True:
        db.session.rollback()  # a fresh snapshot on each look
        payment = db.session.get(Payment, payment_id, populate_existing=True)
        if payment.status != PROCESSING:
            break
        if time.monotonic() >= deadline:
            raise PaymentInProgressError()
        time.sleep(0.05)
    if payment.status == SUCCEEDED:
        order = db.session.get(Order, payment.order_id)
        return order_views(db.session, [order], now)[0]
    if payment.status == DECLINED:
        raise PaymentDeclinedError(
            f"{payment.message or 'The payment was declined.'} The order's seats are free again."
        )
    if payment.status in (REFUND_PENDING, REFUNDED):
        raise OrderExpiredError(
            "The order expired and its seats were taken before the payment arrived; the charge is refunded."
        )
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
            with write_transaction() as session:
                payment = session.get(Payment, payment_id, with_for_update=True)
                if payment.status == PROCESSING:
                    payment.status, payment.updated_at = ABANDONED, now
                    abandoned += 1
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
