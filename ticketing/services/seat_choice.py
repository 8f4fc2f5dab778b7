"""Best available: which seats to offer, as a pure function of an event's rows and a request.

No database and no framework here. The caller reads the rows, calls `choose_seats` (or
`choose_seats_nearest_first`), and holds the answer with a conditional UPDATE, choosing again if
someone took a seat meanwhile. One indexed read of an event's free seats ordered by row then number,
turned into `SeatCandidate`s, is an input as it is (`group_rows` cuts it into rows).

Words, as in the HTTP contract ("Best available and orphan seats"):

- Two seats are *adjacent* when they are in the same row (same section and row) and their numbers
  are consecutive. A number missing from a row (an aisle) breaks adjacency like a taken seat does.
- A *run* is a maximal sequence of free, pairwise adjacent seats of one row. Runs end at a seat that
  is not free, at a missing number, and at the row's ends, so only free seats are needed to find them:
  seats that are not free may be given or left out, the answers are the same.
- Taking some seats of a row *creates an orphan* when a free seat left over is alone in its run
  afterwards (run of length 1) while its run before was longer (it had a free neighbour). A seat that
  was already alone is not created by the choice.
- *Nearest*: the Euclidean distance from the focal point to the centre (mean x, mean y) of the
  seats. Ties go to the lower row index, then the lower (first) number, then the section name and
  the row name (so that the answer is always one and the same).

Cost, n being the seats given, r the rows and f the free seats of the rows scanned:
`choose_seats` is O(n) to keep the free seats and bound each row, O(r log r) to sort the rows, then
O(f) for the scan, which goes nearest bound first and stops at the first row whose bound is beyond
the best orphan-free block found. `choose_seats_nearest_first` (rows already ordered, e.g. by a
query) is O(f) alone: rows past the stop are never read. Steps 2 and 3 are only reached when step 1
found nothing anywhere, after every row; step 3 adds O(f log count).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from typing import NamedTuple

# Which rule of the contract gave the answer.
STEP_TOGETHER = 1  # adjacent in one row, no orphan left
STEP_TOGETHER_ORPHANS_ALLOWED = 2  # adjacent in one row, leaves an orphan
STEP_APART = 3  # the nearest free seats, anywhere (only with together=False)


class SeatCandidate(NamedTuple):
    """One seat of a row as the choice sees it (a named tuple: a request builds hundreds of them)."""

    id: int
    section: str
    row: str  # the row's name
    row_index: int
    number: int
    x: float
    y: float
    category: str | None = None
    accessible: bool = False
    free: bool = True


@dataclass(frozen=True, slots=True)
class SeatRequest:
    """What the buyer asked for: `count` seats, optionally of one category or section."""

    count: int
    category: str | None = None
    section: str | None = None
    accessible: int = 0  # at least this many of the seats must be accessible
    together: bool = True
    orphans_allowed: bool = True  # False: step 2 is skipped (an event with `no_orphan_seats`)

    def __post_init__(self) -> None:
        # The controller answers 400 before this; a bad request here is a programming error.
        if self.count < 1:
            raise ValueError("count must be at least 1")
        if not 0 <= self.accessible <= self.count:
            raise ValueError("accessible must be between 0 and count")


@dataclass(frozen=True, slots=True)
class Choice:
    """The seats chosen and the step of the contract that chose them."""

    step: int  # STEP_TOGETHER, STEP_TOGETHER_ORPHANS_ALLOWED or STEP_APART
    seat_ids: tuple[int, ...]  # row order, then number order


@dataclass(slots=True)
class _Row:
    row_index: int
    section: str
    name: str
    free: list[SeatCandidate]  # in number order


def group_rows(seats: Iterable[SeatCandidate]) -> list[list[SeatCandidate]]:
    """Group seats into rows (same section and row name), each in number order; O(n) on ordered input."""
    rows: dict[tuple[str, str], list[SeatCandidate]] = {}
    for seat in seats:
        key = (seat.section, seat.row)
        row = rows.get(key)
        if row is None:
            rows[key] = [seat]
        else:
            row.append(seat)
    for row in rows.values():
        row.sort(key=_number)  # linear when already in order, as the indexed read gives them
    return list(rows.values())


def row_bound(seats: Iterable[SeatCandidate], focal_point: tuple[float, float]) -> float:
    """How near the focal point a block of these seats can be: the distance to the box around them.

    A block's centre lies inside the box around its seats, hence inside the box around the row. The
    box of all the row's seats (static: the venue's layout) bounds every block the row will ever have.
    """
    xs = [seat.x for seat in seats]
    if not xs:
        return math.inf
    ys = [seat.y for seat in seats]
    focal_x, focal_y = focal_point
    return math.hypot(max(min(xs) - focal_x, focal_x - max(xs), 0.0), max(min(ys) - focal_y, focal_y - max(ys), 0.0))


def choose_seats(
    rows: Iterable[Sequence[SeatCandidate]], request: SeatRequest, focal_point: tuple[float, float]
) -> Choice | None:
    """The best seats for `request` by the contract's three steps, or None when nothing fits.

    `rows`: each item is the seats of one row in ascending number order (free ones at least; others
    are ignored), in any order of rows. Steps, first that succeeds: (1) `count` adjacent seats of one
    row creating no orphan, nearest the focal point; (2) the same, orphans allowed; (3) with
    `together=False` only, the `count` free seats nearest the focal point. Only seats of the asked
    category and section are eligible, and at least `request.accessible` of the chosen seats are
    accessible. Costs O(seats given) to bound the rows, then scans them nearest bound first.
    """
    bounded = []
    for row in rows:
        free = [seat for seat in row if seat.free]
        if free and (request.section is None or free[0].section == request.section):
            bounded.append((row_bound(free, focal_point), free))
    bounded.sort(key=_bound)  # a tie in bound is settled by the blocks' own order, not the rows'
    return choose_seats_nearest_first(bounded, request, focal_point)


def choose_seats_nearest_first(
    rows: Iterable[tuple[float, Iterable[SeatCandidate]]], request: SeatRequest, focal_point: tuple[float, float]
) -> Choice | None:
    """`choose_seats` for rows given as (bound, seats) nearest bound first; reads no row it does not need.

    A row's bound must not exceed the distance of any block of its seats (`row_bound` of the row, or
    of all the row's seats in the layout, which can be computed once per venue). `rows` may be a
    generator reading rows from the database nearest first: it is left as soon as the next bound is
    beyond the best orphan-free block found, and a row's seats are only iterated when it is scanned
    (they may be read lazily). Steps 2 and 3 need every row (an orphan-free block may lie anywhere).
    """
    focal_x, focal_y = focal_point
    looked_at: list[_Row] = []
    count = request.count
    best_clean: tuple | None = None  # the best block leaving no orphan
    best_orphaned: tuple | None = None
    # Only clearly farther rows are left, so that rounding in a bound never changes the answer.
    slack = 1e-9 * (1.0 + abs(focal_x) + abs(focal_y))
    previous_bound = -math.inf
    for bound, seats in rows:
        if bound < previous_bound:
            raise ValueError("rows must come nearest bound first")
        previous_bound = bound
        if best_clean is not None and bound - math.sqrt(best_clean[0]) / count > slack * (1.0 + bound):
            break  # no later row can beat or tie the best orphan-free block
        free = [seat for seat in seats if seat.free]
        if not free or (request.section is not None and free[0].section != request.section):
            continue
        row = _Row(free[0].row_index, free[0].section, free[0].row, free)
        looked_at.append(row)
        best_clean, best_orphaned = _scan_row(row, request, focal_x, focal_y, best_clean, best_orphaned)
    if best_clean is not None:
        return _block_choice(STEP_TOGETHER, best_clean, count)
    if best_orphaned is not None and request.orphans_allowed:
        return _block_choice(STEP_TOGETHER_ORPHANS_ALLOWED, best_orphaned, count)
    if not request.together:
        return _choose_apart(looked_at, request, focal_x, focal_y)
    return None


def choose_blocks_nearest_first(
    rows: Iterable[tuple[float, Iterable[SeatCandidate]]],
    request: SeatRequest,
    focal_point: tuple[float, float],
    how_many: int,
) -> list[Choice]:
    """Up to `how_many` choices, best first: the answer of `choose_seats_nearest_first`, then its
    answer as if the seats of that choice were taken, and so on (a caller offers them all at once to
    a hold that takes the first still wholly free). Each choice is exactly what that function gives
    on the rows without the seats of the choices before it.

    Rows are read as lazily as there; a row is scanned once, and again only when a choice took seats
    of it, so the later choices cost little more than the first.
    """
    focal_x, focal_y = focal_point
    count = request.count
    slack = 1e-9 * (1.0 + abs(focal_x) + abs(focal_y))
    source = iter(rows)
    waiting: tuple[float, Iterable[SeatCandidate]] | None = None  # the next row, read but not scanned
    exhausted = False
    previous_bound = -math.inf
    scanned: list[list] = []  # [row, its best orphan-free block, its best orphan-making block]
    taken: set[int] = set()
    choices: list[Choice] = []

    def scan(row: _Row) -> list:
        clean, orphaned = _scan_row(row, request, focal_x, focal_y, None, None) if row.free else (None, None)
        return [row, clean, orphaned]

    while len(choices) < how_many:
        best_clean = min((entry[1] for entry in scanned if entry[1] is not None), key=_block_order, default=None)
        while True:  # scan further rows while one may hold a block as near as the best
            if waiting is None and not exhausted:
                waiting = next(source, None)
                if waiting is None:
                    exhausted = True
                elif waiting[0] < previous_bound:
                    raise ValueError("rows must come nearest bound first")
                else:
                    previous_bound = waiting[0]
            if waiting is None:
                break
            bound = waiting[0]
            if best_clean is not None and bound - math.sqrt(best_clean[0]) / count > slack * (1.0 + bound):
                break
            free = [seat for seat in waiting[1] if seat.free and seat.id not in taken]
            waiting = None
            if not free or (request.section is not None and free[0].section != request.section):
                continue
            entry = scan(_Row(free[0].row_index, free[0].section, free[0].row, free))
            scanned.append(entry)
            if entry[1] is not None and (best_clean is None or _block_order(entry[1]) < _block_order(best_clean)):
                best_clean = entry[1]
        block = best_clean  # the candidate tuple of a block of one row (steps 1 and 2), else None
        if block is not None:
            choice = _block_choice(STEP_TOGETHER, block, count)
        else:  # no orphan-free block in any row: every row has been scanned
            block = min((entry[2] for entry in scanned if entry[2] is not None), key=_block_order, default=None)
            if block is not None and request.orphans_allowed:
                choice = _block_choice(STEP_TOGETHER_ORPHANS_ALLOWED, block, count)
            elif not request.together:
                block = None
                choice = _choose_apart([entry[0] for entry in scanned], request, focal_x, focal_y)
            else:
                choice = None
        if choice is None:
            break
        choices.append(choice)
        chosen = set(choice.seat_ids)
        taken |= chosen
        for index, entry in enumerate(scanned):  # scan again the rows the choice took seats of
            row = entry[0]
            touched = row.free is block[5] if block is not None else not chosen.isdisjoint(s.id for s in row.free)
            if touched:
                scanned[index] = scan(
                    _Row(row.row_index, row.section, row.name, [s for s in row.free if s.id not in chosen])
                )
    return choices


def _block_order(candidate: tuple) -> tuple:
    return candidate[:5]


def orphans_created(row_seats: Iterable[SeatCandidate], chosen_ids: Iterable[int]) -> list[int]:
    """Ids of the free seats that taking `chosen_ids` would leave alone (row order, then number).

    `row_seats`: every free seat of the rows the choice touches (seats that are not free may be
    included). A chosen seat counts as free before the choice whatever its `free` says, so that an
    order can be checked against the caller's own holds.
    """
    chosen = set(chosen_ids)
    touched = [row for row in group_rows(row_seats) if any(seat.id in chosen for seat in row)]
    touched.sort(key=lambda row: (row[0].row_index, row[0].section, row[0].row))
    orphans: list[int] = []
    for row in touched:
        before = [seat for seat in row if seat.free or seat.id in chosen]
        for run in _runs(before, 2):  # a seat alone already was not made so by this choice
            left = [seat for seat in run if seat.id not in chosen]
            for index, seat in enumerate(left):
                alone_left = index == 0 or left[index - 1].number != seat.number - 1
                alone_right = index == len(left) - 1 or left[index + 1].number != seat.number + 1
                if alone_left and alone_right:
                    orphans.append(seat.id)
    return orphans


def _number(seat: SeatCandidate) -> int:
    return seat.number


def _bound(bounded_row: tuple[float, list[SeatCandidate]]) -> float:
    return bounded_row[0]


def _runs(free: list[SeatCandidate], shortest: int = 1) -> list[list[SeatCandidate]]:
    """The runs of consecutive numbers among a row's free seats (number order), `shortest` long or more."""
    numbers = [seat.number for seat in free]
    steps = [after - before for before, after in pairwise(numbers)]
    if steps and min(steps) < 1:
        raise ValueError(f"row {free[0].row!r}: seats must come in ascending number order, each number once")
    edges = [0, *[index for index, step in enumerate(steps, 1) if step != 1], len(free)]
    return [free[start:stop] for start, stop in pairwise(edges) if stop - start >= shortest]


def _scan_row(
    row: _Row,
    request: SeatRequest,
    focal_x: float,
    focal_y: float,
    best_clean: tuple | None,
    best_orphaned: tuple | None,
) -> tuple[tuple | None, tuple | None]:
    """Steps 1 and 2 on one row: the best orphan-free block and the best orphan-making one, updated.

    Block i is the free seats i .. i+count-1 of the row. Each step is a comprehension over the row or
    over the blocks still in play, never a Python loop per seat: this is most of the cost of a call.
    """
    count, free = request.count, row.free
    numbers = [seat.number for seat in free]
    steps = [after - before for before, after in pairwise(numbers)]
    if steps and min(steps) < 1:
        raise ValueError(f"row {row.name!r}: seats must come in ascending number order, each number once")
    span = count - 1  # numbers ascend, so a block's seats are adjacent when its numbers span count - 1
    starts = [i for i in range(len(free) - span) if numbers[i + span] - numbers[i] == span]
    if starts and request.category is not None:
        others = list(accumulate([seat.category != request.category for seat in free], initial=0))
        starts = [i for i in starts if others[i + count] == others[i]]
    if starts and request.accessible:
        accessible = list(accumulate([seat.accessible for seat in free], initial=0))
        starts = [i for i in starts if accessible[i + count] - accessible[i] >= request.accessible]
    if not starts:
        return best_clean, best_orphaned
    xs = list(accumulate([seat.x for seat in free], initial=0.0))
    ys = list(accumulate([seat.y for seat in free], initial=0.0))
    # Blocks are compared by (count² x squared distance, row index, first number, section, row): the
    # same order as the distance, without a division or a square root, so that equal distances compare
    # equal whenever the coordinates are exact (whole numbers, halves, quarters...).
    focal_x, focal_y = count * focal_x, count * focal_y
    keys = [(xs[i + count] - xs[i] - focal_x) ** 2 + (ys[i + count] - ys[i] - focal_y) ** 2 for i in starts]
    # next_to[k]: free seat k is adjacent to free seat k-1 (False at both ends of the row). A block
    # leaves an orphan when the seat just before it is adjacent to it but not to the seat before that,
    # or the same after it.
    next_to = [False, *[step == 1 for step in steps], False]
    orphaned = [
        (next_to[i] and not next_to[i - 1]) or (next_to[i + count] and not next_to[i + count + 1]) for i in starts
    ]
    clean = [math.inf if orphan else key for key, orphan in zip(keys, orphaned, strict=True)]
    best_clean = _nearer(best_clean, clean, starts, row)
    if best_clean is None:  # an orphan-making block only matters while no orphan-free one exists
        orphan_keys = [key if orphan else math.inf for key, orphan in zip(keys, orphaned, strict=True)]
        best_orphaned = _nearer(best_orphaned, orphan_keys, starts, row)
    return best_clean, best_orphaned


def _nearer(best: tuple | None, keys: list[float], starts: list[int], row: _Row) -> tuple | None:
    """The better of the best block so far and this row's nearest block (keys of math.inf left out)."""
    index = min(range(len(keys)), key=keys.__getitem__)  # the first of equals: the lower number
    key = keys[index]
    if key == math.inf or (best is not None and key > best[0]):
        return best
    first = starts[index]
    candidate = (key, row.row_index, row.free[first].number, row.section, row.name, row.free, first)
    return candidate if best is None or candidate[:5] < best[:5] else best


def _block_choice(step: int, candidate: tuple, count: int) -> Choice:
    free, first = candidate[5], candidate[6]
    return Choice(step, tuple(seat.id for seat in free[first : first + count]))


def _choose_apart(rows: list[_Row], request: SeatRequest, focal_x: float, focal_y: float) -> Choice | None:
    """Step 3: the `count` nearest eligible free seats, the `accessible` nearest accessible ones among them."""

    def nearness(seat: SeatCandidate) -> tuple:
        return ((seat.x - focal_x) ** 2 + (seat.y - focal_y) ** 2, seat.row_index, seat.number, seat.section, seat.row)

    category = request.category
    eligible = [seat for row in rows for seat in row.free if category is None or seat.category == category]
    if len(eligible) < request.count:
        return None
    # Greedy is exact here: sets of `count` seats with at least N accessible are the bases of a matroid.
    chosen = heapq.nsmallest(request.accessible, (seat for seat in eligible if seat.accessible), key=nearness)
    if len(chosen) < request.accessible:
        return None
    taken = {seat.id for seat in chosen}
    rest = (seat for seat in eligible if seat.id not in taken)
    chosen += heapq.nsmallest(request.count - len(chosen), rest, key=nearness)
    chosen.sort(key=lambda seat: (seat.row_index, seat.section, seat.row, seat.number))
    return Choice(STEP_APART, tuple(seat.id for seat in chosen))
