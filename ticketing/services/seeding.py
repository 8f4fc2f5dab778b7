"""Making events and their seats in bulk."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert

from ..database import write_transaction
from ..models import ON_SALE, Event, Seat
from . import best_available

_ROW_RANGE = re.compile(r"^([A-Z]{1,3})(?:-([A-Z]{1,3}))?$")
MAX_SEATS_PER_EVENT = 1_000_000


@dataclass(frozen=True)
class SeededEvent:
    id: int
    seat_count: int


def _row_index(name: str) -> int:
    # Spreadsheet columns: A=1 ... Z=26, AA=27 ...
    index = 0
    for letter in name:
        index = index * 26 + (ord(letter) - ord("A") + 1)
    return index


def _row_name(index: int) -> str:
    name = ""
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def parse_rows(spec: str) -> list[str]:
    """Turn "A-J" (or "A", or "A-CV" spreadsheet style) into the list of row names."""
    match = _ROW_RANGE.match(spec.strip().upper())
    if not match:
        raise ValueError(f"rows must look like A-J, got {spec!r}")
    first, last = _row_index(match.group(1)), _row_index(match.group(2) or match.group(1))
    if last < first:
        raise ValueError(f"row range {spec!r} runs backwards")
    return [_row_name(index) for index in range(first, last + 1)]


def seed_event(
    *, name: str, rows: list[str], per_row: int, price_cents: int, currency: str, starts_at: datetime | None
) -> SeededEvent:
    """Create an event on sale with `per_row` seats in each row (labels A1, A2, ...), in one transaction."""
    if per_row < 1:
        raise ValueError("per-row must be at least 1")
    if price_cents < 0:
        raise ValueError("price cannot be negative")
    seat_count = len(rows) * per_row
    if seat_count > MAX_SEATS_PER_EVENT:
        raise ValueError(f"at most {MAX_SEATS_PER_EVENT} seats per event, asked for {seat_count}")
    with write_transaction() as session:
        event = Event(name=name, starts_at=starts_at, currency=currency.upper(), status=ON_SALE)
        session.add(event)
        session.flush()
        seats = [
            {
                "event_id": event.id,
                "label": f"{row}{number}",
                "row": row,
                "number": number,
                "price_cents": price_cents,
                "status": "available",
            }
            for row in rows
            for number in range(1, per_row + 1)
        ]
        session.execute(insert(Seat), seats)
        best_available.store_geometry(session, event_id=event.id, venue_id=None)
    return SeededEvent(id=event.id, seat_count=seat_count)
