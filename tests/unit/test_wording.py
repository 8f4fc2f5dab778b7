"""The phrases refusals are made of."""

from __future__ import annotations

from ticketing.models import ORDER_STATUSES, PENDING_PAYMENT
from ticketing.services.wording import missing_seats, order_not_cancellable, order_not_payable, seats_phrase


def test_seat_lists_read_as_english():
    assert seats_phrase(["A6"]) == "Seat A6"
    assert seats_phrase(["A6", "A7"]) == "Seats A6 and A7"
    assert seats_phrase(["A6", "A7", "B1"]) == "Seats A6, A7 and B1"
    assert missing_seats([5]) == "There is no seat with id 5."


def test_every_order_state_that_refuses_has_its_own_sentence():
    for state in ORDER_STATUSES:
        if state != PENDING_PAYMENT:
            assert "_" not in order_not_payable(state) and "current state" not in order_not_payable(state)
        assert "_" not in order_not_cancellable(state) and "current state" not in order_not_cancellable(state)
