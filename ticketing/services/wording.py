"""Sentences for refusals that name seats or an order's state: labels, not ids, and proper plurals.

"Seat A6 is sold." and "Seats A6 and A7 are held by someone else." rather than "Seats 6 are booked".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from ..models import (
    BOOKED,
    CANCELLED,
    EXPIRED,
    LOCKED,
    PAID,
    PARTIALLY_REFUNDED,
    PAYMENT_FAILED,
    PENDING_PAYMENT,
    REFUNDED,
    effective_status,
)


def seats_phrase(labels: Sequence[str]) -> str:
    """ "Seat A6", "Seats A6 and A7", "Seats A6, A7 and A8"."""
    if len(labels) == 1:
        return f"Seat {labels[0]}"
    return f"Seats {', '.join(labels[:-1])} and {labels[-1]}"


def _sentence(labels: list[str], one: str, several: str) -> str:
    return f"{seats_phrase(labels)} {one if len(labels) == 1 else several}."


def unavailable_seats(seats: Iterable, unavailable: Iterable[int], *, user_id: int, now: datetime) -> str:
    """Why the caller cannot have these seats (seat rows; `unavailable` their ids), one sentence per reason."""
    wanted = set(unavailable)
    yours, sold, in_your_order, held = [], [], [], []
    for seat in seats:
        if seat.id not in wanted:
            continue
        state = effective_status(seat.status, seat.locked_until, now)
        if state == BOOKED:
            (yours if seat.holder_id == user_id else sold).append(seat.label)
        elif state == LOCKED and seat.holder_id == user_id:
            in_your_order.append(seat.label)
        else:
            held.append(seat.label)
    sentences = []
    if yours:
        sentences.append(
            _sentence(yours, "is already yours: you have its ticket", "are already yours: you have their tickets")
        )
    if in_your_order:
        sentences.append(
            _sentence(in_your_order, "is in another order of yours", "are in another order of yours")
            + " Pay for that order or cancel it first."
        )
    if sold:
        sentences.append(_sentence(sold, "is sold", "are sold"))
    if held:
        sentences.append(_sentence(held, "is held by someone else", "are held by someone else"))
    return " ".join(sentences) or "Some of the seats cannot be had."


def missing_seats(seat_ids: Sequence[int]) -> str:
    """The refusal for seat ids that do not exist."""
    ids = [str(seat_id) for seat_id in seat_ids]
    if len(ids) == 1:
        return f"There is no seat with id {ids[0]}."
    return f"There are no seats with ids {', '.join(ids[:-1])} and {ids[-1]}."


# What an order's state means to its buyer, and why that stops a payment or a cancellation.
_NOT_PAYABLE = {
    PAID: "The order is already paid.",
    PAYMENT_FAILED: "The order's payment was declined and its seats were released; start a new order to try again.",
    CANCELLED: "The order was cancelled, so it can no longer be paid.",
    EXPIRED: "The order ran out of time and its seats were released, so it can no longer be paid.",
    PARTIALLY_REFUNDED: "The order is already paid (and partly refunded).",
    REFUNDED: "The order was paid and refunded, so it can no longer be paid.",
}
_NOT_CANCELLABLE = {
    PAID: "The order is already paid, so it cannot be cancelled.",
    PAYMENT_FAILED: "The order's payment was declined and its seats were already released.",
    CANCELLED: "The order is already cancelled.",
    EXPIRED: "The order ran out of time and its seats were already released.",
    PENDING_PAYMENT: "The order is waiting for its payment and cannot be cancelled now.",
    PARTIALLY_REFUNDED: "The order is paid (and partly refunded): ask for a refund instead.",
    REFUNDED: "The order is refunded already.",
}


def order_not_payable(state: str) -> str:
    """Why an order in `state` cannot be paid."""
    return _NOT_PAYABLE.get(state, "The order cannot be paid in its current state.")


def order_not_cancellable(state: str) -> str:
    """Why an order in `state` cannot be cancelled."""
    return _NOT_CANCELLABLE.get(state, "The order cannot be cancelled in its current state.")


def orphaned_seats(labels: Sequence[str]) -> str:
    """The refusal of an order that would leave seats alone (an event with `no_orphan_seats`)."""
    if len(labels) == 1:
        return (
            f"{seats_phrase(labels)} would be left on its own between taken seats: add it to your order, "
            "or choose seats that leave no single seat."
        )
    return (
        f"{seats_phrase(labels)} would each be left on their own between taken seats: add them to your order, "
        "or choose seats that leave no single seat."
    )
