"""`parse_rows`: the row ranges that `flask seed-seats --rows` and the seeding service accept."""

from __future__ import annotations

from ticketing.services.seeding import parse_rows


def test_parse_rows():
    assert parse_rows("A-C") == ["A", "B", "C"]
    assert parse_rows("b") == ["B"]
    assert parse_rows("Y-AB") == ["Y", "Z", "AA", "AB"]
    assert len(parse_rows("A-CV")) == 100
