#!/usr/bin/env python3
"""Cost of best available's choice alone (services/seat_choice.py): no database read, no hold.

    .venv/bin/python bench/seat_choice.py [--calls 500] [--per-row 1000] [--seed 1]

Events of 1,000, 20,000 and 100,000 seats in rows of --per-row, x = number and y = row index (the
layout's defaults), half the seats sold at random (the same draw for every size: the smaller events
are the first rows of the larger), the focal point in the middle of the first row.
Each call asks for a party of 2 to 6 seats together. Three ways to give the rows:
- `free`: choose_seats on the free seats of every row (what one read of the free seats gives);
- `all`: choose_seats on every seat, sold ones too;
- `nearest`: choose_seats_nearest_first on the rows ordered by the box around each row's seats
  (computed once per venue, as a caller would cache it), so that rows past the stop are not touched.
Prints p50 and p99 of one call in ms, wall clock and CPU time of the process (the CPU figure is the
fairer one on a busy machine), the rows read (p50/max) and the steps the answers
came from.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ticketing.services.seat_choice import (
    SeatCandidate,
    SeatRequest,
    choose_seats,
    choose_seats_nearest_first,
    group_rows,
    row_bound,
)

SIZES = (1_000, 20_000, 100_000)


def make_rows(seats: int, per_row: int, rng: random.Random) -> list[list[SeatCandidate]]:
    """Every seat of the event, row by row, half of them sold at random."""
    return group_rows(
        SeatCandidate(
            id=index + 1,
            section="",
            row=f"R{index // per_row + 1}",
            row_index=index // per_row + 1,
            number=index % per_row + 1,
            x=float(index % per_row + 1),
            y=float(index // per_row + 1),
            free=rng.random() < 0.5,
        )
        for index in range(seats)
    )


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class CountingRows:
    """The rows, counting how many of them a call reads."""

    def __init__(self, rows: list) -> None:
        self.rows, self.read = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.read += 1
            yield row


def time_calls(choose, rows, requests) -> tuple[list[float], list[float], list[int], dict[int, int]]:
    """Wall and CPU ms of each call of `choose(rows, request)`, rows read, and answers by step (0: none)."""
    wall, cpu, read, steps = [], [], [], {}
    for request in requests:
        counting = CountingRows(rows)
        started, started_cpu = time.perf_counter(), time.process_time()
        choice = choose(counting, request)
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
        read.append(counting.read)
        step = choice.step if choice else 0
        steps[step] = steps.get(step, 0) + 1
    return wall, cpu, read, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--per-row", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    requests_rng = random.Random(args.seed)
    requests = [SeatRequest(count=requests_rng.randint(2, 6)) for _ in range(args.calls)]
    print(f"choose_seats: {args.calls} calls per line, parties of 2-6 together, rows of {args.per_row}, half sold")
    print(f"{'seats':>8} {'rows given':>10} {'p50 ms':>8} {'p99 ms':>8}", end=" ")
    print(f"{'cpu p50':>8} {'cpu p99':>8} {'rows read':>10}  steps")
    for size in SIZES:
        rows = make_rows(size, args.per_row, random.Random(args.seed))
        focal = ((args.per_row + 1) / 2, 1.0)
        free_rows = [[seat for seat in row if seat.free] for row in rows]
        layout_bounds = sorted(
            ((row_bound(row, focal), free) for row, free in zip(rows, free_rows, strict=True)),
            key=lambda bounded: bounded[0],
        )
        ways = {
            "free": (lambda given, request, focal=focal: choose_seats(given, request, focal), free_rows),
            "all": (lambda given, request, focal=focal: choose_seats(given, request, focal), rows),
            "nearest": (
                lambda given, request, focal=focal: choose_seats_nearest_first(given, request, focal),
                layout_bounds,
            ),
        }
        for name, (choose, given) in ways.items():
            wall, cpu, read, steps = time_calls(choose, given, requests)
            rows_read = f"{statistics.median(read):.0f}/{max(read)}"
            print(
                f"{size:>8,} {name:>10} {statistics.median(wall):>8.3f} {percentile(wall, 0.99):>8.3f} "
                f"{statistics.median(cpu):>8.3f} {percentile(cpu, 0.99):>8.3f} {rows_read:>10}  {steps}"
            )


if __name__ == "__main__":
    main()
