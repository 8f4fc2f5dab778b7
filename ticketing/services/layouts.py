"""Venue layouts: validate one (every problem named by its path), count its seats, and lay them out.

Pure functions: no database, no Flask. The shape is checked by the marshmallow schemas of
schemas/layout.py; the rules that span several places are checked here. A problem's path starts at
the layout's root: `sections[1].rows[0].seats` (duplicate seat numbers in that row).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import NamedTuple

import marshmallow as ma
from marshmallow.exceptions import SCHEMA

from ..errors import InvalidRequestError
from ..schemas.layout import MAX_SEATS_PER_VENUE, LayoutSchema

_MAX_PROBLEMS = 50  # a layout with thousands of mistakes gets the first fifty, not a megabyte of them


class LayoutSeat(NamedTuple):
    """A seat as an event makes it from the layout (a tuple: events make up to 100,000 of them)."""

    section: str
    row: str
    number: int
    label: str
    category: str | None
    accessible: bool
    blocked: bool
    x: float
    y: float


def error_paths(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as `{"sections[1].rows[0].name": [problem, ...]}`."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            if isinstance(key, int):  # a list's item
                path = f"{prefix}[{key}]"
            elif key == SCHEMA:  # the object itself ("Invalid input type."): its own place
                path = prefix
            elif prefix:
                path = f"{prefix}.{key}"
            else:
                path = str(key)
            flat.update(error_paths(value, path))
        return flat
    if isinstance(messages, list) and all(isinstance(message, str) for message in messages):
        return {prefix or "layout": list(messages)}
    return {prefix or "layout": [str(messages)]}


def validate_layout(raw: object) -> dict:
    """The layout as it is stored (unknown keys dropped, names trimmed, the focal point filled in).

    Raises InvalidRequestError whose details name each problem's place.
    """
    if not isinstance(raw, dict):
        raise InvalidRequestError("The layout is invalid.", details={"layout": ["Must be an object."]})
    try:
        layout = LayoutSchema().load(raw)
    except ma.ValidationError as error:
        raise InvalidRequestError("The layout is invalid.", details=_first(error_paths(error.messages))) from None
    problems = _cross_checks(layout)
    if problems:
        raise InvalidRequestError("The layout is invalid.", details=_first(problems))
    if "focal_point" not in layout:
        layout["focal_point"] = _middle_of_first_row(layout)
    return layout


def _first(problems: dict[str, list[str]]) -> dict[str, list[str]]:
    return dict(list(problems.items())[:_MAX_PROBLEMS])


def seat_count(layout: dict) -> int:
    """How many seats the layout has (without laying them out)."""
    return sum(_row_size(row) for section in layout["sections"] for row in section["rows"])


def _row_size(row: dict) -> int:
    return row["seats"] if isinstance(row["seats"], int) else len(row["seats"])


def _numbers(row: dict) -> list[int]:
    seats = row["seats"]
    return list(range(1, seats + 1)) if isinstance(seats, int) else [seat["number"] for seat in seats]


def _cross_checks(layout: dict) -> dict[str, list[str]]:
    """Unique section names (named when there are several), row names and seat numbers; the seat limit;
    unique labels."""
    problems: dict[str, list[str]] = {}
    sections = layout["sections"]
    several = len(sections) > 1
    section_seen: dict[str, int] = {}
    for s, section in enumerate(sections):
        name = section["name"]
        if several and not name:
            problems[f"sections[{s}].name"] = ["Name every section when the venue has several."]
        elif name in section_seen:
            problems[f"sections[{s}].name"] = [f"sections[{section_seen[name]}] has this name already."]
        section_seen.setdefault(name, s)
        row_seen: dict[str, int] = {}
        for r, row in enumerate(section["rows"]):
            if row["name"] in row_seen:
                other = f"sections[{s}].rows[{row_seen[row['name']]}]"
                problems[f"sections[{s}].rows[{r}].name"] = [f"{other} has this name already."]
            row_seen.setdefault(row["name"], r)
            numbers = _numbers(row)
            if len(set(numbers)) != len(numbers):
                repeated = sorted(number for number, times in Counter(numbers).items() if times > 1)[:10]
                problems[f"sections[{s}].rows[{r}].seats"] = [
                    f"Seat numbers appear more than once: {', '.join(map(str, repeated))}."
                ]
    if problems:
        return problems
    total = seat_count(layout)
    if total > MAX_SEATS_PER_VENUE:
        return {"sections": [f"The layout has {total} seats; a venue has at most {MAX_SEATS_PER_VENUE}."]}
    # Distinct names can still make one label twice: row "A1" seat 1 and row "A" seat 11 are both "A11".
    # Within a row labels differ (its numbers do); across rows, set operations find a clash.
    seen: set[str] = set()
    for s, section in enumerate(sections):
        for r, row in enumerate(section["rows"]):
            prefix = _label(section["name"], row["name"], "", several)
            labels = [prefix + str(number) for number in _numbers(row)]
            clash = seen.intersection(labels)
            if clash:
                label = min(clash)
                problems[f"sections[{s}].rows[{r}].seats"] = [
                    f"Seat label {label!r} is also the label of a seat in {_row_with_label(layout, label)}."
                ]
            seen.update(labels)
    return problems


def _label(section: str, row: str, number: int | str, several_sections: bool) -> str:
    label = f"{row}{number}"
    return f"{section} {label}" if several_sections else label


def _row_with_label(layout: dict, label: str) -> str:
    """The path of the first row that has a seat labelled `label` (to word a clash)."""
    several = len(layout["sections"]) > 1
    for s, section in enumerate(layout["sections"]):
        for r, row in enumerate(section["rows"]):
            if any(_label(section["name"], row["name"], n, several) == label for n in _numbers(row)):
                return f"sections[{s}].rows[{r}]"
    return "another row"


def _middle_of_first_row(layout: dict) -> dict:
    section = layout["sections"][0]
    first_row = {"sections": [{"name": section["name"], "rows": section["rows"][:1]}]}
    seats = list(lay_out(first_row))
    xs, ys = [seat.x for seat in seats], [seat.y for seat in seats]
    return {"x": (min(xs) + max(xs)) / 2, "y": (min(ys) + max(ys)) / 2}


def lay_out(layout: dict) -> Iterator[LayoutSeat]:
    """Every seat of a validated layout, section by section, row by row, in the order listed.

    Left-out positions: `x` is the seat's number; `y` is the row's `y`, else the row's index in its
    section's `rows` (from 0). So sections of a venue with several want positions of their own (a row
    `y`, seats' `x`), or they are drawn over one another.
    """
    several = len(layout["sections"]) > 1
    for section in layout["sections"]:
        name = section["name"]
        for index, row in enumerate(section["rows"]):
            row_y = float(row.get("y", index))
            prefix = _label(name, row["name"], "", several)
            seats = row["seats"]
            if isinstance(seats, int):
                for number in range(1, seats + 1):
                    yield LayoutSeat(
                        name, row["name"], number, prefix + str(number), None, False, False, float(number), row_y
                    )
            else:
                for spec in seats:
                    number = spec["number"]
                    yield LayoutSeat(
                        name,
                        row["name"],
                        number,
                        prefix + str(number),
                        spec.get("category"),
                        spec.get("accessible", False),
                        spec.get("blocked", False),
                        float(spec.get("x", number)),
                        float(spec.get("y", row_y)),
                    )


def categories_of(layout: dict) -> set[str]:
    """The category names the layout's seats use."""
    return {
        seat["category"]
        for section in layout["sections"]
        for row in section["rows"]
        if not isinstance(row["seats"], int)
        for seat in row["seats"]
        if seat.get("category") is not None
    }
