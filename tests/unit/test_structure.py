"""Rules of the code's structure that keep the change feed complete by construction."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "ticketing"
# A statement that writes the seats table: update(Seat...), update(_SEATS...), insert into seats, etc.
# (and the database function that holds a seat in one statement, migration 0011)
_SEAT_WRITE = re.compile(
    r"\bupdate\(\s*(Seat\b|_SEATS\b|Seat\.__table__)|\bseats_changed\b|\.book\(\)|\.take\(|\bFROM hold_seat\("
)


def test_only_the_ledger_writes_seat_state():
    """Every seat transition goes through services/ledger.py, which stamps it for the change feed."""
    writers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if _SEAT_WRITE.search(path.read_text()) and path.name != "ledger.py"
    )
    assert writers == []


def test_the_live_lock_rule_is_written_once():
    """`locked_until` compared with a time appears only where the rule is defined (models/seat.py)."""
    comparisons = re.compile(r"locked_until\s*(<=|>=|<|>)|locked_until\.is_")
    places = sorted(
        str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if comparisons.search(path.read_text())
    )
    assert places == ["models/seat.py"]
