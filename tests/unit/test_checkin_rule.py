"""The door's rule as pure functions (models/checkin.py): where a ticket stands after its movements,
and what a scan does from there."""

from __future__ import annotations

from datetime import datetime

import pytest

from ticketing.models import (
    ADMITTED,
    ALREADY_CHECKED_IN,
    ENTRY,
    EXIT,
    EXITED,
    NOT_CHECKED_IN,
    OUTSIDE,
    VOID_TICKET,
    Movement,
    decide,
    door_state,
)

T1, T2, T3 = (datetime(2027, 5, 1, 19, minute) for minute in (0, 10, 20))


def test_movements_fold_into_where_the_ticket_stands():
    first = Movement(result=ADMITTED, at=T1, gate="North")
    out = Movement(result=EXITED, at=T2, gate="North")
    again = Movement(result=ADMITTED, at=T3, gate="South")
    assert door_state([]) == OUTSIDE and OUTSIDE.checked_in_at is None
    assert door_state([first]).inside == first
    left = door_state([first, out])
    assert left.inside is None and left.checked_in_at == T1  # it has been in
    back = door_state([first, out, again])
    assert back.inside == again and back.checked_in_at == T3
    refused = Movement(result=ALREADY_CHECKED_IN, at=T3, gate="East")
    assert door_state([first, refused]) == door_state([first])  # a refusal moves nothing


@pytest.mark.parametrize(
    ("kind", "void", "inside", "result"),
    [
        (ENTRY, False, False, ADMITTED),
        (ENTRY, False, True, ALREADY_CHECKED_IN),
        (EXIT, False, True, EXITED),
        (EXIT, False, False, NOT_CHECKED_IN),
        (ENTRY, True, False, VOID_TICKET),
        (ENTRY, True, True, VOID_TICKET),
        (EXIT, True, True, VOID_TICKET),
    ],
)
def test_what_a_scan_does(kind, void, inside, result):
    state = door_state([Movement(result=ADMITTED, at=T1, gate="")]) if inside else OUTSIDE
    assert decide(kind=kind, void=void, state=state) == result
