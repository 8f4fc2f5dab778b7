"""Venue layouts, without a database: the example layouts, defaults, labels, and every problem at its place."""

from __future__ import annotations

import json
import math

import marshmallow as ma
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketing.errors import InvalidRequestError
from ticketing.schemas.common import Money, UtcDateTime
from ticketing.schemas.layout import SeatSpecSchema, load_seat_specs
from ticketing.services.layouts import categories_of, lay_out, seat_count, validate_layout

from ..organizers import layout


def problems(raw) -> dict[str, list[str]]:
    """The details of the validation error `raw` gets (it must get one)."""
    with pytest.raises(InvalidRequestError) as caught:
        validate_layout(raw)
    return caught.value.details


def one_section(*rows) -> dict:
    return {"sections": [{"rows": list(rows)}]}


def test_the_example_theatre_has_400_seats_in_stalls_and_balcony():
    theatre = validate_layout(layout("theatre"))
    seats = list(lay_out(theatre))
    assert seat_count(theatre) == len(seats) == 400
    assert categories_of(theatre) == {"Premium", "Standard", "Balcony"}
    by_label = {seat.label: seat for seat in seats}
    assert len(by_label) == 400
    # Two sections: labels carry the section's name; the stalls' aisle leaves out 13 and 14.
    assert {seat.section for seat in seats} == {"Stalls", "Balcony"}
    assert [seat.number for seat in seats if seat.section == "Stalls" and seat.row == "A"] == [
        *range(1, 13),
        *range(15, 27),
    ]
    assert "Stalls A13" not in by_label and by_label["Stalls A15"].x == 15
    assert by_label["Balcony G16"].category == "Balcony" and by_label["Stalls A1"].category == "Premium"
    assert sorted(seat.label for seat in seats if seat.accessible) == [
        "Stalls L1",
        "Stalls L2",
        "Stalls L25",
        "Stalls L26",
    ]
    assert sorted(seat.label for seat in seats if seat.blocked) == ["Stalls L12", "Stalls L15"]
    assert theatre["focal_point"] == {"x": 13.5, "y": 4.0}


def test_the_example_arena_has_20000_seats_in_25_sections_and_fits_a_request():
    arena = validate_layout(layout("arena"))
    seats = list(lay_out(arena))
    assert len(seats) == 20_000 == len({seat.label for seat in seats})
    assert len(arena["sections"]) == 25
    assert categories_of(arena) == {"Lower", "Upper"}
    assert sum(1 for seat in seats if seat.category is None) == 800  # the floor: the event's default price
    assert all(math.isfinite(seat.x) and math.isfinite(seat.y) for seat in seats)
    assert len(json.dumps(layout("arena"), separators=(",", ":"))) < 1024 * 1024  # MAX_CONTENT_LENGTH by default


def test_positions_default_to_the_number_and_the_rows_index_in_its_section():
    checked = validate_layout(
        {
            "sections": [
                {"name": "Left", "rows": [{"name": "A", "seats": 2}, {"name": "B", "seats": [{"number": 5}]}]},
                {
                    "name": "Right",
                    "rows": [{"name": "A", "y": 9.5, "seats": [{"number": 1, "x": -3, "y": 2}, {"number": 2}]}],
                },
            ]
        }
    )
    seats = [(seat.label, seat.x, seat.y) for seat in lay_out(checked)]
    assert seats == [
        ("Left A1", 1.0, 0.0),
        ("Left A2", 2.0, 0.0),
        ("Left B5", 5.0, 1.0),
        ("Right A1", -3.0, 2.0),
        ("Right A2", 2.0, 9.5),
    ]
    second = validate_layout(
        {
            "sections": [
                {"name": "Left", "rows": [{"name": "A", "seats": 1}]},
                {"name": "Right", "rows": [{"name": "A", "seats": 1}, {"name": "B", "seats": 1}]},
            ]
        }
    )
    assert [(seat.label, seat.y) for seat in lay_out(second)] == [
        ("Left A1", 0.0),
        ("Right A1", 0.0),
        ("Right B1", 1.0),
    ]
    assert checked["focal_point"] == {"x": 1.5, "y": 0.0}  # the middle of the first row


def test_one_section_needs_no_name_and_labels_have_no_prefix():
    checked = validate_layout(one_section({"name": " B ", "seats": 2}))
    assert [(seat.section, seat.row, seat.label) for seat in lay_out(checked)] == [("", "B", "B1"), ("", "B", "B2")]
    assert checked["sections"][0]["name"] == ""


def test_flags_and_categories_of_seat_specs():
    checked = validate_layout(
        one_section(
            {
                "name": "A",
                "seats": [{"number": 1, "category": " VIP ", "accessible": True}, {"number": 3, "blocked": True}],
            }
        )
    )
    first, second = lay_out(checked)
    assert (first.category, first.accessible, first.blocked) == ("VIP", True, False)
    assert (second.category, second.accessible, second.blocked, second.number) == (None, False, True, 3)


def test_duplicate_seat_numbers_are_named_by_their_row():
    raw = {
        "sections": [
            {"name": "Stalls", "rows": [{"name": "A", "seats": 3}]},
            {"name": "Balcony", "rows": [{"name": "A", "seats": [{"number": 4}, {"number": 5}, {"number": 4}]}]},
        ]
    }
    assert problems(raw) == {"sections[1].rows[0].seats": ["Seat numbers appear more than once: 4."]}


def test_names_must_be_unique_and_present_where_labels_need_them():
    raw = {
        "sections": [
            {"name": "Stalls", "rows": [{"name": "A", "seats": 1}, {"name": "A", "seats": 1}]},
            {"name": "Stalls", "rows": [{"name": "A", "seats": 1}]},
            {"rows": [{"name": "A", "seats": 1}]},
        ]
    }
    assert problems(raw) == {
        "sections[0].rows[1].name": ["sections[0].rows[0] has this name already."],
        "sections[1].name": ["sections[0] has this name already."],
        "sections[2].name": ["Name every section when the venue has several."],
    }


def test_two_rows_that_would_make_the_same_label_are_refused():
    # Row "A1" seat 1 and row "A" seat 11 are both "A11".
    assert problems(one_section({"name": "A1", "seats": 1}, {"name": "A", "seats": 11})) == {
        "sections[0].rows[1].seats": ["Seat label 'A11' is also the label of a seat in sections[0].rows[0]."]
    }


def test_at_most_100000_seats():
    exactly = one_section({"name": "A", "seats": 60_000}, {"name": "B", "seats": 40_000})
    assert seat_count(validate_layout(exactly)) == 100_000
    over = one_section({"name": "A", "seats": 60_000}, {"name": "B", "seats": 40_001})
    assert problems(over) == {"sections": ["The layout has 100001 seats; a venue has at most 100000."]}
    assert "sections[0].rows[0].seats" in problems(one_section({"name": "A", "seats": 100_001}))


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ([], "layout"),
        ({}, "sections"),
        ({"sections": []}, "sections"),
        ({"sections": [{"rows": []}]}, "sections[0].rows"),
        (one_section({"seats": 3}), "sections[0].rows[0].name"),
        (one_section({"name": "", "seats": 3}), "sections[0].rows[0].name"),
        (one_section({"name": "ABCDEFGHIJK", "seats": 3}), "sections[0].rows[0].name"),
        (one_section({"name": "A"}), "sections[0].rows[0].seats"),
        (one_section({"name": "A", "seats": 0}), "sections[0].rows[0].seats"),
        (one_section({"name": "A", "seats": True}), "sections[0].rows[0].seats"),
        (one_section({"name": "A", "seats": "3"}), "sections[0].rows[0].seats"),
        (one_section({"name": "A", "seats": []}), "sections[0].rows[0].seats"),
        (one_section({"name": "A", "seats": [{"number": 1}, {}]}), "sections[0].rows[0].seats[1].number"),
        (one_section({"name": "A", "seats": [{"number": 0}]}), "sections[0].rows[0].seats[0].number"),
        (one_section({"name": "A", "seats": [{"number": 1.5}]}), "sections[0].rows[0].seats[0].number"),
        (one_section({"name": "A", "seats": [{"number": 1, "x": float("nan")}]}), "sections[0].rows[0].seats[0].x"),
        (one_section({"name": "A", "seats": [{"number": 1, "y": 1e9}]}), "sections[0].rows[0].seats[0].y"),
        (one_section({"name": "A", "seats": [{"number": 1, "category": ""}]}), "sections[0].rows[0].seats[0].category"),
        (
            one_section({"name": "A", "seats": [{"number": 1, "category": "x" * 41}]}),
            "sections[0].rows[0].seats[0].category",
        ),
        (
            one_section({"name": "A", "seats": [{"number": 1, "accessible": "maybe"}]}),
            "sections[0].rows[0].seats[0].accessible",
        ),
        (one_section({"name": "A", "seats": ["1"]}), "sections[0].rows[0].seats[0]"),
        (one_section({"name": "A", "y": "high", "seats": 1}), "sections[0].rows[0].y"),
        ({"sections": [{"name": "x" * 41, "rows": [{"name": "A", "seats": 1}]}]}, "sections[0].name"),
        ({**one_section({"name": "A", "seats": 1}), "focal_point": {"x": 1}}, "focal_point.y"),
        ({**one_section({"name": "A", "seats": 1}), "focal_point": {"x": float("inf"), "y": 0}}, "focal_point.x"),
    ],
)
def test_each_problem_is_reported_at_its_place(raw, path):
    found = problems(raw)
    assert path in found, found


def test_many_problems_are_cut_to_fifty():
    raw = one_section({"name": "A", "seats": [{"number": 0} for _ in range(200)]})
    assert len(problems(raw)) == 50


seat_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200_005),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=45),
    st.sampled_from([" VIP ", "\x00", "\ud800", "  ", "Stalls", "1"]),
    st.lists(st.integers(), max_size=2),
)
seat_specs = st.one_of(
    st.dictionaries(
        st.sampled_from(["number", "category", "accessible", "blocked", "x", "y", "other"]), seat_values, max_size=7
    ),
    st.fixed_dictionaries(
        {"number": st.integers(1, 100_000)},
        optional={
            "category": st.one_of(st.none(), st.text(min_size=1, max_size=40)),
            "accessible": st.booleans(),
            "blocked": st.booleans(),
            "x": st.floats(-1e6, 1e6),
            "y": st.integers(-1_000_000, 1_000_000),
        },
    ),
    seat_values,
)


def _load(load, specs):
    try:
        return "ok", load(specs)
    except ma.ValidationError as error:
        return "error", error.messages


@given(st.lists(seat_specs, min_size=1, max_size=4))
def test_the_fast_path_loads_seat_specs_exactly_as_the_schema(specs):
    assert _load(load_seat_specs, specs) == _load(SeatSpecSchema(many=True).load, specs)


@pytest.mark.parametrize(
    ("value", "cents"), [("25.00", 2500), ("25", 2500), (25, 2500), (19.9, 1990), ("0", 0), ("1000000.00", 100_000_000)]
)
def test_prices_load_as_cents(value, cents):
    assert Money().deserialize(value) == cents


@pytest.mark.parametrize(
    "value",
    ["-1", -0.01, float("nan"), "NaN", float("inf"), "Infinity", "1.001", "1e30", "1000000.01", "", "abc", True],
)
def test_bad_prices_are_refused_never_rounded(value):
    with pytest.raises(ma.ValidationError):
        Money().deserialize(value)


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("2027-05-01T19:30:00Z", "2027-05-01T19:30:00"),
        ("2027-05-01T21:30:00+02:00", "2027-05-01T19:30:00"),
        ("2027-05-01T19:30:00", "2027-05-01T19:30:00"),
    ],
)
def test_times_load_as_naive_utc(value, utc):
    assert UtcDateTime().deserialize(value).isoformat() == utc


@pytest.mark.parametrize("value", ["tomorrow", "", 1735689600, "1999-12-31T00:00:00Z", "2027-13-01T00:00:00Z"])
def test_bad_times_are_refused(value):
    with pytest.raises(ma.ValidationError):
        UtcDateTime().deserialize(value)
