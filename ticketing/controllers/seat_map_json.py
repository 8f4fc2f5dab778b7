"""The seat map's JSON, written straight from database rows: 100,000 seats encoded in a tenth of a second.

The bytes are exactly those of `orjson.dumps({"event_id": ..., "seats": [seat_json(seat), ...]})`
(presenters.seat_json; tests/api/test_seat_map_json.py holds the two together), but no dict is
made per seat: each seat is one bytes template filled with its values, and the values that repeat
across seats (a row's name, a section, a category, a price, a coordinate) are encoded once per map.
A viewer's own holds are added afterwards (`with_holds`), so the anonymous map serves everyone.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

import orjson

from ..models import AVAILABLE, BLOCKED, BOOKED, LOCKED, format_price, iso

# The columns each row carries, in this order (services.catalogue.seat_map_rows).
_SEAT = (
    b'{"id":%d,"event_id":%d,"label":%b,"row":%b,"number":%d,"price":%b,"status":"%b","is_taken":%b,'
    b'"section":%b,"category":%b,"accessible":%b,"x":%b,"y":%b}'
)
_PREFIX = b'{"event_id":%d,"seats":['
_TRUE, _FALSE = b"true", b"false"
_STATES = {state: state.encode() for state in (AVAILABLE, LOCKED, BOOKED, BLOCKED)}
_PIECE = 1 << 20  # a spliced answer goes out in slices of at most this many bytes


@dataclass(frozen=True)
class MapBody:
    """One encoded map: its JSON, and where each seat's object ends in it (for splicing in holds)."""

    body: bytes
    ids: array  # the seats' ids, ascending (the map's order)
    ends: array  # ends[i]: the offset of seat i's closing brace in `body`

    @property
    def nbytes(self) -> int:
        return len(self.body) + self.ids.itemsize * len(self.ids) + self.ends.itemsize * len(self.ends)


class _Memo(dict):
    """JSON for values that repeat across a map's seats, each encoded once (a float that is whole
    as an integer, as presenters.seat_json writes coordinates)."""

    def __missing__(self, value) -> bytes:
        whole = isinstance(value, float) and value.is_integer()
        encoded = orjson.dumps(int(value) if whole else value)
        self[value] = encoded
        return encoded


def encode_map(event_id: int, chunks: Iterable[list], now: datetime) -> MapBody:
    """The event's map as anonymous viewers see it at `now`, from chunks of seat rows by id."""
    out, ids, ends = BytesIO(), array("q"), array("q")
    out.write(_PREFIX % event_id)
    memo, prices, dumps = _Memo(), {}, orjson.dumps
    position, first = out.tell(), True
    for rows in chunks:
        encoded = []
        for seat_id, label, row, number, cents, status, until, order_id, section, category, accessible, x, y in rows:
            if status == LOCKED:
                if until is None or until <= now:  # run out: models.effective_status
                    state, taken = _STATES[AVAILABLE], _FALSE
                else:
                    state, taken = _STATES[LOCKED], _FALSE if order_id is None else _TRUE
            else:
                state = _STATES.get(status) or status.encode()
                taken = _TRUE if status == BOOKED else _FALSE
            price = prices.get(cents)
            if price is None:
                price = prices[cents] = dumps(format_price(cents))
            seat = _SEAT % (
                seat_id,
                event_id,
                dumps(label),
                memo[row],
                number,
                price,
                state,
                taken,
                memo[section],
                memo[category],
                _TRUE if accessible else _FALSE,
                memo[x],
                memo[y],
            )
            if not first:
                position += 1  # the comma before it
            first = False
            position += len(seat)
            ids.append(seat_id)
            ends.append(position - 1)
            encoded.append(seat)
        if encoded:
            if ids and len(ids) > len(encoded):
                out.write(b",")
            out.write(b",".join(encoded))
    out.write(b"]}")
    # getvalue() hands over the buffer itself when nothing else refers to it: no second copy.
    return MapBody(out.getvalue(), ids, ends)


def holds_extra(locked_until: datetime) -> bytes:
    """What presenters.seat_json adds to a seat the viewer holds, before its closing brace."""
    return b',"locked_by_me":true,"lock_expires_at":' + orjson.dumps(iso(locked_until))


Read = Callable[[int, int], bytes]  # the map's bytes from `start` to `end`


def with_holds(
    ids: array, ends: array, prefix_length: int, length: int, read: Read, holds: list[tuple[int, datetime]]
) -> tuple[list[tuple[int, int, bytes]], int]:
    """Where the viewer's holds go into the anonymous map: (start, end, extra) spans and the length.

    `ids` and `ends` index the map (MapBody), `read` gives its bytes; `holds` are (seat id,
    locked_until) of the seats the viewer holds at the same moment. A seat not in this map (another
    status filter) or not shown as held in it (its state moved since the map was read) is left as
    the map has it, so every seat object stays one consistent state.
    """
    spans, start, total = [], 0, length
    for seat_id, until in sorted(holds):
        index = bisect_left(ids, seat_id)
        if index == len(ids) or ids[index] != seat_id:
            continue
        end = ends[index]
        seat_start = ends[index - 1] + 2 if index else prefix_length
        if b'"status":"locked"' not in read(seat_start, end):
            continue
        extra = holds_extra(until)
        spans.append((start, end, extra))
        start, total = end, total + len(extra)
    spans.append((start, length, b""))
    return spans, total


def pieces(read: Read, spans: list[tuple[int, int, bytes]]) -> Iterator[bytes]:
    """The spliced answer in slices of at most _PIECE bytes (never a second whole copy of the map)."""
    for start, end, extra in spans:
        for offset in range(start, end, _PIECE):
            yield read(offset, min(offset + _PIECE, end))
        if extra:
            yield extra


def prefix_length(event_id: int) -> int:
    """Where the first seat starts in the event's map."""
    return len(_PREFIX % event_id)
