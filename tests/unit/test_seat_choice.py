"""Best available's choice of seats (services/seat_choice.py): hand-made rows, then properties on random ones."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticketing.services.seat_choice import (
    STEP_APART,
    STEP_TOGETHER,
    STEP_TOGETHER_ORPHANS_ALLOWED,
    Choice,
    SeatCandidate,
    SeatRequest,
    choose_blocks_nearest_first,
    choose_seats,
    choose_seats_nearest_first,
    group_rows,
    orphans_created,
    row_bound,
)


def make_row(
    index: int,
    numbers,
    *,
    taken=(),
    section: str = "",
    categories: dict[int, str] | None = None,
    accessible=(),
    y: float | None = None,
) -> list[SeatCandidate]:
    """A row drawn the layout's default way (x = number, y = row index); seat id = 1000*index + number."""
    offset = 100_000 if section else 0
    return [
        SeatCandidate(
            id=offset + 1000 * index + number,
            section=section,
            row=chr(ord("A") + index),
            row_index=index,
            number=number,
            x=float(number),
            y=float(index) if y is None else y,
            category=(categories or {}).get(number),
            accessible=number in accessible,
            free=number not in taken,
        )
        for number in numbers
    ]


def numbers_of(choice: Choice | None) -> list[int] | None:
    """The chosen seats' numbers (ids of make_row rows end with the number)."""
    return None if choice is None else [seat_id % 1000 for seat_id in choice.seat_ids]


# -- hand-made rows ------------------------------------------------------------------------------


def test_the_block_nearest_the_focal_point_is_chosen():
    rows = [make_row(0, range(1, 11)), make_row(1, range(1, 11))]
    choice = choose_seats(rows, SeatRequest(count=2), (5.5, 1.0))
    assert choice == Choice(STEP_TOGETHER, (1005, 1006))


def test_an_aisle_breaks_adjacency():
    row = make_row(0, [1, 2, 3, 4, 7, 8, 9, 10])  # no seats 5 and 6: an aisle
    # 3, 4, 7, 8 would be nearest (centre 5.5) but is not adjacent; 1-4 and 7-10 tie: lower number.
    assert numbers_of(choose_seats([row], SeatRequest(count=4), (5.5, 0.0))) == [1, 2, 3, 4]
    assert choose_seats([row], SeatRequest(count=5), (5.5, 0.0)) is None


def test_a_taken_seat_breaks_adjacency():
    row = make_row(0, range(1, 11), taken={5})
    # Centred on 5: 3-4 is as near as 6-7 (distance 1.5) and has the lower number.
    assert numbers_of(choose_seats([row], SeatRequest(count=2), (5.0, 0.0))) == [3, 4]
    assert numbers_of(choose_seats([row], SeatRequest(count=5), (5.0, 0.0))) == [6, 7, 8, 9, 10]


def test_seats_that_are_not_free_may_be_left_out_of_the_rows():
    full = make_row(0, range(1, 11), taken={2, 5, 9})
    free_only = [seat for seat in full if seat.free]
    for count in (1, 2, 3):
        request = SeatRequest(count=count)
        assert choose_seats([full], request, (4.0, 0.0)) == choose_seats([free_only], request, (4.0, 0.0))


def test_a_block_leaving_one_seat_alone_is_skipped_when_a_clean_block_exists():
    row = make_row(0, range(1, 6))
    # 2-3 is nearest but leaves 1 alone; 3-4 leaves 5 alone; 1-2 leaves 3-5 together.
    assert choose_seats([row], SeatRequest(count=2), (2.5, 0.0)) == Choice(STEP_TOGETHER, (1, 2))


def test_a_farther_row_wins_when_the_nearest_would_leave_an_orphan():
    near = make_row(0, range(1, 4))  # 3 seats: any pair leaves one alone
    far = make_row(5, range(1, 3))
    assert choose_seats([near, far], SeatRequest(count=2), (2.0, 0.0)) == Choice(STEP_TOGETHER, (5001, 5002))


def test_an_orphan_is_accepted_when_no_clean_block_exists():
    row = make_row(0, range(1, 4))
    assert choose_seats([row], SeatRequest(count=2), (3.0, 0.0)) == Choice(STEP_TOGETHER_ORPHANS_ALLOWED, (2, 3))


def test_without_orphans_allowed_step_two_is_skipped():
    row = make_row(0, range(1, 4))
    assert choose_seats([row], SeatRequest(count=2, orphans_allowed=False), (3.0, 0.0)) is None
    apart = SeatRequest(count=2, together=False, orphans_allowed=False)
    assert choose_seats([row], apart, (3.0, 0.0)) == Choice(STEP_APART, (2, 3))


def test_a_seat_already_alone_is_not_an_orphan_of_the_choice():
    row = make_row(0, range(1, 5), taken={2})  # 1 is alone before anything is chosen
    assert choose_seats([row], SeatRequest(count=2), (1.0, 0.0)) == Choice(STEP_TOGETHER, (3, 4))


def test_only_seats_of_the_asked_category_are_chosen():
    row = make_row(0, range(1, 9), categories={1: "A", 2: "A", 3: "A", 4: "B", 5: "B", 6: "A", 7: "A", 8: "A"})
    # Nearest 4.5 in category A: 2-3 (leaves 1 alone), then 1-2 (seat 3 keeps seat 4, of B, company).
    choice = choose_seats([row], SeatRequest(count=2, category="A"), (4.5, 0.0))
    assert choice == Choice(STEP_TOGETHER, (1, 2))
    # A block must be entirely of the category: 3-4 and 5-6 mix A and B.
    assert numbers_of(choose_seats([row], SeatRequest(count=4, category="A"), (4.5, 0.0))) is None
    assert numbers_of(choose_seats([row], SeatRequest(count=2, category="B"), (0.0, 0.0))) == [4, 5]
    assert choose_seats([row], SeatRequest(count=1, category="VIP"), (0.0, 0.0)) is None


def test_only_seats_of_the_asked_section_are_chosen():
    stalls = make_row(0, range(1, 5))
    balcony = make_row(3, range(1, 5), section="Balcony")
    assert choose_seats([stalls, balcony], SeatRequest(count=2, section="Balcony"), (2.5, 0.0)) == Choice(
        STEP_TOGETHER, (103001, 103002)
    )
    assert numbers_of(choose_seats([stalls, balcony], SeatRequest(count=2, section=""), (2.5, 9.0))) == [1, 2]
    assert choose_seats([stalls, balcony], SeatRequest(count=2, section="Box"), (2.5, 0.0)) is None


def test_accessible_seats_are_included_when_asked():
    row = make_row(0, range(1, 11), accessible={9, 10})
    request = SeatRequest(count=2, accessible=1)
    # 8-9 is nearer 5.5 than 9-10 but leaves 10 alone.
    assert choose_seats([row], request, (5.5, 0.0)) == Choice(STEP_TOGETHER, (9, 10))
    assert numbers_of(choose_seats([row], SeatRequest(count=3, accessible=2), (5.5, 0.0))) == [8, 9, 10]
    assert choose_seats([row], SeatRequest(count=3, accessible=3), (5.5, 0.0)) is None


def test_accessible_seats_in_another_row():
    front = make_row(0, range(1, 11))
    back = make_row(4, range(1, 11), accessible={1, 2})
    assert numbers_of(choose_seats([front, back], SeatRequest(count=2, accessible=1), (5.5, 0.0))) == [1, 2]


def test_a_tie_between_rows_goes_to_the_lower_row_index():
    rows = [make_row(2, range(1, 5), y=3.0), make_row(1, range(1, 5), y=1.0)]
    assert choose_seats(rows, SeatRequest(count=4), (2.5, 2.0)) == Choice(STEP_TOGETHER, (1001, 1002, 1003, 1004))


def test_a_tie_goes_to_the_lower_row_index_before_the_lower_number():
    rows = [make_row(2, [1, 2], y=3.0), make_row(1, [4, 5], y=1.0)]
    # Centres (1.5, 3) and (4.5, 1) are both 1.5 across and 1 up or down from (3, 2).
    assert choose_seats(rows, SeatRequest(count=2), (3.0, 2.0)) == Choice(STEP_TOGETHER, (1004, 1005))


@pytest.mark.parametrize(("spread_index", "behind_index"), [(2, 1), (1, 2)])
def test_a_tie_goes_to_the_lower_row_index_whichever_row_is_looked_at_first(spread_index, behind_index):
    spread = make_row(spread_index, [1, 2, 9], y=2.0)  # its seats surround the focal point: looked at first
    behind = make_row(behind_index, [5, 6], y=6.0)
    # Both pairs are 4 away from (5.5, 2).
    expected = spread[:2] if spread_index < behind_index else behind
    choice = choose_seats([spread, behind], SeatRequest(count=2), (5.5, 2.0))
    assert choice == Choice(STEP_TOGETHER, tuple(seat.id for seat in expected))


def test_a_tie_within_a_row_goes_to_the_lower_number():
    row = make_row(0, range(1, 7))
    # 2-4 and 3-5 are nearer 3.5 but leave a seat alone; 1-3 and 4-6 are both 1.5 away.
    assert choose_seats([row], SeatRequest(count=3), (3.5, 0.0)) == Choice(STEP_TOGETHER, (1, 2, 3))


def test_seats_apart_only_when_asked_and_no_block_exists():
    row = make_row(0, range(1, 10), taken={2, 4, 6, 8})  # 1, 3, 5, 7, 9 free: no two adjacent
    assert choose_seats([row], SeatRequest(count=3), (5.0, 0.0)) is None
    apart = choose_seats([row], SeatRequest(count=3, together=False), (5.0, 0.0))
    assert apart == Choice(STEP_APART, (3, 5, 7))
    # A block, when one exists, is preferred even though single seats are nearer.
    rows = [row, make_row(6, range(1, 4))]
    assert choose_seats(rows, SeatRequest(count=3, together=False), (5.0, 0.0)) == Choice(
        STEP_TOGETHER, (6001, 6002, 6003)
    )


def test_seats_apart_with_accessible_ones():
    row = make_row(0, range(1, 10), taken={2, 4, 6, 8}, accessible={1})
    choice = choose_seats([row], SeatRequest(count=2, accessible=1, together=False), (5.0, 0.0))
    assert choice == Choice(STEP_APART, (1, 5))


def test_sold_out_gives_nothing():
    row = make_row(0, range(1, 5), taken={1, 2, 3, 4})
    assert choose_seats([row], SeatRequest(count=1, together=False), (2.0, 0.0)) is None
    assert choose_seats([], SeatRequest(count=1), (0.0, 0.0)) is None


def test_a_count_larger_than_any_run():
    rows = [make_row(0, range(1, 7), taken={4}), make_row(1, range(1, 4))]  # runs of 3, 2 and 3
    assert choose_seats(rows, SeatRequest(count=4), (3.0, 0.0)) is None
    apart = choose_seats(rows, SeatRequest(count=4, together=False), (3.0, 0.0))
    # Distances 0 (A3), 1 (A2, and B3: lower row first), 1.41 (B2); then A1 and A5 at 2 come too late.
    assert apart == Choice(STEP_APART, (2, 3, 1002, 1003))
    assert choose_seats(rows, SeatRequest(count=9, together=False), (3.0, 0.0)) is None


def test_rows_out_of_number_order_are_refused():
    row = make_row(0, [1, 2, 3])
    with pytest.raises(ValueError, match="ascending number order"):
        choose_seats([[row[1], row[0], row[2]]], SeatRequest(count=2), (0.0, 0.0))


@pytest.mark.parametrize(("count", "accessible"), [(0, 0), (2, 3), (2, -1)])
def test_impossible_requests_are_refused(count, accessible):
    with pytest.raises(ValueError):
        SeatRequest(count=count, accessible=accessible)


def test_row_bound_is_the_distance_to_the_box_around_the_seats():
    row = make_row(2, range(3, 8))  # x from 3 to 7, y = 2
    assert row_bound(row, (5.0, 2.0)) == 0.0
    assert row_bound(row, (5.0, 6.0)) == 4.0
    assert row_bound(row, (10.0, 6.0)) == 5.0  # 3 past the end, 4 behind
    assert row_bound([], (0.0, 0.0)) == math.inf


def test_rows_nearest_first_are_read_only_as_far_as_needed():
    read = []

    def rows_from_the_front():
        for index in range(10):
            read.append(index)
            row = make_row(index, range(1, 11))
            yield row_bound(row, (5.5, 0.0)), row

    choice = choose_seats_nearest_first(rows_from_the_front(), SeatRequest(count=2), (5.5, 0.0))
    assert choice == Choice(STEP_TOGETHER, (5, 6))
    assert read == [0, 1]  # row 1 was asked for its bound only: 1 is beyond the block found (0)


def test_rows_nearest_first_are_all_read_when_no_orphan_free_block_is_near():
    rows = [make_row(index, range(1, 4)) for index in range(5)] + [make_row(9, range(1, 3))]
    bounded = [(row_bound(row, (2.0, 0.0)), row) for row in rows]
    assert choose_seats_nearest_first(bounded, SeatRequest(count=2), (2.0, 0.0)) == Choice(STEP_TOGETHER, (9001, 9002))


def test_rows_out_of_bound_order_are_refused():
    rows = [(1.0, make_row(1, [1, 2, 3])), (0.0, make_row(0, [1, 2, 3]))]
    with pytest.raises(ValueError, match="nearest bound first"):
        choose_seats_nearest_first(rows, SeatRequest(count=3), (2.0, 0.0))


def test_group_rows_turns_one_ordered_read_into_rows():
    first, second = make_row(0, [1, 2, 3]), make_row(1, [4, 5])
    assert group_rows(first + second) == [first, second]
    assert group_rows([first[2], second[0], first[0], first[1], second[1]]) == [first, second]


def test_orphans_created_by_an_order():
    row = make_row(0, range(1, 7), taken={5})  # runs 1-4 and 6
    assert orphans_created(row, [2]) == [1]
    assert orphans_created(row, [2, 3]) == [1, 4]
    assert orphans_created(row, [1, 2]) == []
    assert orphans_created(row, [4]) == []  # 6 was alone already
    rows = make_row(1, range(1, 4)) + make_row(0, range(1, 4))
    assert orphans_created(rows, [1002, 2]) == [1, 3, 1001, 1003]  # row order, then number order
    assert orphans_created(rows, [3]) == []  # rows not touched are not looked at


def test_an_order_of_held_seats_is_judged_against_the_seats_before_the_holds():
    row = make_row(0, range(1, 5), taken={2})  # seat 2 is held by the buyer about to order it
    assert orphans_created(row, [2]) == [1]
    assert orphans_created(row, [2, 3]) == [1, 4]


# -- properties on random rows ---------------------------------------------------------------------

QUARTERS = st.integers(-4, 44).map(lambda quarter: quarter / 4)  # exact in binary: ties stay ties
SECTIONS = ("", "Balcony")


@st.composite
def venues(draw) -> list[list[SeatCandidate]]:
    """Up to 4 rows of up to 9 seats, some numbers missing (aisles), some rows drawn off the straight line."""
    keys = draw(st.lists(st.tuples(st.sampled_from(SECTIONS), st.integers(0, 4)), min_size=1, max_size=4, unique=True))
    rows, ids = [], itertools.count(1)
    for section, row_index in keys:
        aisles = draw(st.sets(st.integers(1, 9), max_size=2))
        numbers = [number for number in range(1, draw(st.sampled_from(range(10))) + 1) if number not in aisles]
        straight = draw(st.booleans())
        sold = draw(st.integers(0, 3))  # how full the row is: none, a sixth, a third, half
        category = draw(st.sampled_from((None, "A", "A", "B")))
        rows.append(
            [
                SeatCandidate(
                    id=next(ids),
                    section=section,
                    row=f"R{row_index}",
                    row_index=row_index,
                    number=number,
                    x=float(number) if straight else draw(QUARTERS),
                    y=float(row_index) if straight else draw(QUARTERS),
                    category=category if draw(st.sampled_from(range(5))) else draw(st.sampled_from((None, "A", "B"))),
                    accessible=draw(st.sampled_from(range(4))) == 0,
                    free=draw(st.sampled_from(range(6))) >= sold,
                )
                for number in numbers
            ]
        )
    return rows


@st.composite
def requests(draw) -> SeatRequest:
    count = draw(st.integers(1, 4))
    return SeatRequest(
        count=count,
        category=draw(st.sampled_from((None, None, "A"))),
        section=draw(st.sampled_from((None, None, *SECTIONS))),
        accessible=min(count, draw(st.sampled_from((0, 0, 1, 2)))),
        together=draw(st.booleans()),
    )


focal_points = st.tuples(QUARTERS, QUARTERS)
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, database=None)


def _eligible(seat: SeatCandidate, request: SeatRequest) -> bool:
    return (
        seat.free
        and (request.category is None or seat.category == request.category)
        and (request.section is None or seat.section == request.section)
    )


def _squared_distance(seats, focal) -> Fraction:
    """Exact squared distance of the seats' centre to the focal point."""
    count = len(seats)
    centre_x = sum(Fraction(seat.x) for seat in seats) / count
    centre_y = sum(Fraction(seat.y) for seat in seats) / count
    return (centre_x - Fraction(focal[0])) ** 2 + (centre_y - Fraction(focal[1])) ** 2


def _leaves_an_orphan(row, chosen_numbers) -> bool:
    """The contract's words: a free seat alone after the choice that had a free neighbour before."""
    before = {seat.number for seat in row if seat.free}
    after = before - chosen_numbers
    return any(
        number - 1 not in after and number + 1 not in after and (number - 1 in before or number + 1 in before)
        for number in after
    )


def all_blocks(rows, request, focal) -> dict[int, list[tuple]]:
    """Every valid adjacent block, by step, as (order key, seat ids): brute force."""
    blocks: dict[int, list[tuple]] = {STEP_TOGETHER: [], STEP_TOGETHER_ORPHANS_ALLOWED: []}
    for row in rows:
        by_number = {seat.number: seat for seat in row}
        for seat in row:
            numbers = range(seat.number, seat.number + request.count)
            seats = [by_number.get(number) for number in numbers]
            if any(other is None or not _eligible(other, request) for other in seats):
                continue
            if sum(other.accessible for other in seats) < request.accessible:
                continue
            key = (_squared_distance(seats, focal), seat.row_index, seat.number, seat.section, seat.row)
            step = STEP_TOGETHER_ORPHANS_ALLOWED if _leaves_an_orphan(row, set(numbers)) else STEP_TOGETHER
            blocks[step].append((key, tuple(other.id for other in seats)))
    return blocks


def best_apart(rows, request, focal) -> tuple[int, ...] | None:
    """Step 3 by the matroid greedy (nearest first, keeping room for the accessible seats asked)."""
    seats = sorted(
        (seat for row in rows for seat in row if _eligible(seat, request)),
        key=lambda seat: (_squared_distance([seat], focal), seat.row_index, seat.number, seat.section, seat.row),
    )
    chosen = []
    for seat in seats:
        others = sum(not other.accessible for other in chosen)
        if len(chosen) < request.count and (seat.accessible or others < request.count - request.accessible):
            chosen.append(seat)
    if len(chosen) < request.count or sum(seat.accessible for seat in chosen) < request.accessible:
        return None
    chosen.sort(key=lambda seat: (seat.row_index, seat.section, seat.row, seat.number))
    return tuple(seat.id for seat in chosen)


def oracle(rows, request, focal) -> Choice | None:
    """The contract's answer, found by trying everything."""
    blocks = all_blocks(rows, request, focal)
    for step in (STEP_TOGETHER, STEP_TOGETHER_ORPHANS_ALLOWED):
        if blocks[step]:
            return Choice(step, min(blocks[step])[1])
    if not request.together:
        apart = best_apart(rows, request, focal)
        if apart is not None:
            return Choice(STEP_APART, apart)
    return None


@PROPERTY_SETTINGS
@given(venues(), requests(), focal_points)
def test_the_answer_is_free_eligible_and_of_the_right_shape(rows, request, focal):
    choice = choose_seats(rows, request, focal)
    if choice is None:
        return
    seats = {seat.id: seat for row in rows for seat in row}
    chosen = [seats[seat_id] for seat_id in choice.seat_ids]
    assert len(set(choice.seat_ids)) == len(chosen) == request.count
    assert all(_eligible(seat, request) for seat in chosen)
    assert sum(seat.accessible for seat in chosen) >= request.accessible
    touched = [seat for seat in seats.values() if (seat.section, seat.row) in {(s.section, s.row) for s in chosen}]
    if choice.step in (STEP_TOGETHER, STEP_TOGETHER_ORPHANS_ALLOWED):
        assert len({(seat.section, seat.row) for seat in chosen}) == 1
        assert [seat.number for seat in chosen] == list(range(chosen[0].number, chosen[0].number + request.count))
        assert (orphans_created(touched, choice.seat_ids) == []) == (choice.step == STEP_TOGETHER)
    else:
        assert not request.together


@PROPERTY_SETTINGS
@given(venues(), requests(), focal_points)
def test_no_block_of_the_same_step_is_nearer_and_no_earlier_step_was_possible(rows, request, focal):
    choice = choose_seats(rows, request, focal)
    blocks = all_blocks(rows, request, focal)
    if choice is not None and choice.step != STEP_APART:
        keys = {seat_ids: key for key, seat_ids in blocks[choice.step]}
        assert choice.seat_ids in keys
        assert keys[choice.seat_ids] == min(keys.values())  # distance, then row index, then number
    earlier = [step for step in (STEP_TOGETHER, STEP_TOGETHER_ORPHANS_ALLOWED) if blocks[step]]
    if choice is None:
        assert not earlier
        assert request.together or best_apart(rows, request, focal) is None
    else:
        assert all(step >= choice.step for step in earlier)
    assert choice == oracle(rows, request, focal)


@PROPERTY_SETTINGS
@given(venues(), requests(), focal_points)
def test_seats_apart_are_the_nearest_possible(rows, request, focal):
    choice = choose_seats(rows, request, focal)
    if choice is None or choice.step != STEP_APART:
        return
    eligible = [seat for row in rows for seat in row if _eligible(seat, request)]
    chosen = [seat for seat in eligible if seat.id in choice.seat_ids]

    def distances(seats):
        return sorted(_squared_distance([seat], focal) for seat in seats)

    best = distances(chosen)
    if math.comb(len(eligible), request.count) <= 2000:
        for other in itertools.combinations(eligible, request.count):
            if sum(seat.accessible for seat in other) >= request.accessible:
                assert distances(other) >= best


@PROPERTY_SETTINGS
@given(venues(), requests(), focal_points, st.randoms(use_true_random=False))
def test_the_answer_depends_on_the_free_seats_only_not_on_their_order(rows, request, focal, random):
    shuffled = [[seat for seat in row if seat.free] for row in rows]
    random.shuffle(shuffled)
    assert choose_seats(shuffled, request, focal) == choose_seats(rows, request, focal)


@PROPERTY_SETTINGS
@given(venues(), requests(), focal_points)
def test_rows_read_nearest_first_give_the_same_answer(rows, request, focal):
    # The box around all of a row's seats, taken or not, is a bound a caller can keep per venue.
    bounded = sorted(((row_bound(row, focal), row) for row in rows), key=lambda bounded_row: bounded_row[0])
    assert choose_seats_nearest_first(bounded, request, focal) == choose_seats(rows, request, focal)


@PROPERTY_SETTINGS
@given(venues(), st.data())
def test_orphans_created_follows_the_definition(rows, data):
    seats = [seat for row in rows for seat in row]
    chosen = data.draw(st.sets(st.sampled_from([seat.id for seat in seats]), max_size=4) if seats else st.just(set()))
    expected = set()
    for row in rows:
        # Chosen seats count as free before the order (they are the buyer's own holds).
        before = {seat.number for seat in row if seat.free or seat.id in chosen}
        after = before - {seat.number for seat in row if seat.id in chosen}
        if any(seat.id in chosen for seat in row):
            expected |= {
                seat.id
                for seat in row
                if seat.number in after
                and seat.number - 1 not in after
                and seat.number + 1 not in after
                and (seat.number - 1 in before or seat.number + 1 in before)
            }
    assert set(orphans_created(seats, chosen)) == expected


@PROPERTY_SETTINGS
@given(venues(), requests(), focal_points)
def test_without_orphans_allowed_the_answer_is_the_contracts_minus_step_two(rows, request, focal):
    """An event with `no_orphan_seats`: a block leaving an orphan is never offered; otherwise the same."""
    strict = SeatRequest(
        count=request.count,
        category=request.category,
        section=request.section,
        accessible=request.accessible,
        together=request.together,
        orphans_allowed=False,
    )
    choice = choose_seats(rows, strict, focal)
    usual = oracle(rows, request, focal)
    if usual is None or usual.step == STEP_TOGETHER:
        assert choice == usual
    else:
        assert choice is None or choice.step == STEP_APART
        assert choice is None or not request.together


def _choices_one_by_one(rows, request, focal, how_many) -> list[Choice]:
    """What `choose_blocks_nearest_first` must give: the choice again and again, each chosen block's
    seats taken out of the rows."""
    choices, taken = [], set()
    for _ in range(how_many):
        bounded = [
            (bound, [seat for seat in row if seat.id not in taken])
            for bound, row in sorted(((row_bound(row, focal), row) for row in rows), key=lambda bounded: bounded[0])
        ]
        choice = choose_seats_nearest_first(bounded, request, focal)
        if choice is None:
            break
        choices.append(choice)
        taken.update(choice.seat_ids)
    return choices


@PROPERTY_SETTINGS
@given(venues(), requests(), focal_points, st.integers(1, 5), st.booleans())
def test_the_next_choices_are_the_choice_again_without_the_blocks_before(rows, request, focal, how_many, orphans):
    request = SeatRequest(**{**_fields(request), "orphans_allowed": orphans})
    bounded = sorted(((row_bound(row, focal), row) for row in rows), key=lambda bounded_row: bounded_row[0])
    assert choose_blocks_nearest_first(bounded, request, focal, how_many) == _choices_one_by_one(
        rows, request, focal, how_many
    )


def _fields(request: SeatRequest) -> dict:
    return {name: getattr(request, name) for name in SeatRequest.__dataclass_fields__}


def test_the_next_choices_on_a_hand_made_row():
    row = make_row(0, range(1, 11))
    request = SeatRequest(count=2)
    choices = choose_blocks_nearest_first([(row_bound(row, (5.5, 0.0)), row)], request, (5.5, 0.0), 4)
    numbers = [[seat.number for seat in row if seat.id in choice.seat_ids] for choice in choices]
    assert numbers == [[5, 6], [3, 4], [7, 8], [1, 2]]
    assert [choice.step for choice in choices] == [STEP_TOGETHER] * 4
