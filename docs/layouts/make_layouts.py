#!/usr/bin/env python3
"""Writes the two example layouts of this folder (the JSON files are committed; run this to remake them).

    python3 docs/layouts/make_layouts.py

- theatre.json: 400 seats. Stalls rows A-L of 24 seats numbered 1-12 and 15-26 (the missing 13 and
  14 are the centre aisle), Premium in rows A-E and Standard in F-L; four wheelchair places at the
  ends of row L; L12 and L15 blocked (the sound desk). Balcony rows A-G of 16 seats, drawn behind
  the stalls and centred on them. Three price categories: Premium, Standard, Balcony.
- arena.json: 20,000 seats. A Floor of rows A-T of 40 seats (no category: the event's default price)
  and two rings around it, Lower (sections 101-112) and Upper (201-212), each section rows A-T of 40
  seats along an arc. Categories Lower and Upper. Under 1 MB, so it can be sent to the API as is.

Layout format: ../../README.md ("Organizers"), and the contract's "Venues and layouts".
"""

from __future__ import annotations

import json
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent


def theatre() -> dict:
    stalls = []
    for index, row in enumerate("ABCDEFGHIJKL"):
        category = "Premium" if row <= "E" else "Standard"
        seats = []
        for number in [*range(1, 13), *range(15, 27)]:
            seat = {"number": number, "category": category}
            if row == "L" and number in (1, 2, 25, 26):
                seat["accessible"] = True
            if row == "L" and number in (12, 15):
                seat["blocked"] = True
            seats.append(seat)
        stalls.append({"name": row, "seats": seats, "y": float(index)})
    # Behind the stalls with a gap; x shifted by 5 so that seats 1-16 are centred over 1-26.
    balcony = [
        {
            "name": row,
            "y": 14.0 + index,
            "seats": [{"number": n, "category": "Balcony", "x": n + 5.0} for n in range(1, 17)],
        }
        for index, row in enumerate("ABCDEFG")
    ]
    return {
        "focal_point": {"x": 13.5, "y": 4.0},
        "sections": [{"name": "Stalls", "rows": stalls}, {"name": "Balcony", "rows": balcony}],
    }


ROWS = "ABCDEFGHIJKLMNOPQRST"
SEATS_PER_ROW = 40
SEAT_PITCH, ROW_PITCH = 1.0, 1.25
CENTRE = (20.5, 11.875)  # the middle of the floor


def _ring(first_section: int, inner_radius: float, category: str) -> list[dict]:
    """Twelve sections around the centre, each rows of 40 seats along arcs (one seat pitch apart)."""
    sections = []
    for index in range(12):
        middle = math.radians(index * 30 + 15)  # each section is centred in its 30° slice
        rows = []
        for row_index, row in enumerate(ROWS):
            radius = inner_radius + row_index * ROW_PITCH
            step = SEAT_PITCH / radius  # the angle between two seats of this row
            seats = []
            for number in range(1, SEATS_PER_ROW + 1):
                angle = middle + (number - (SEATS_PER_ROW + 1) / 2) * step
                x = round(CENTRE[0] + radius * math.cos(angle), 1)
                y = round(CENTRE[1] + radius * math.sin(angle), 1)
                seats.append({"number": number, "category": category, "x": x, "y": y})
            rows.append({"name": row, "seats": seats})
        sections.append({"name": str(first_section + index), "rows": rows})
    return sections


def arena() -> dict:
    floor = [{"name": row, "seats": SEATS_PER_ROW, "y": round(index * ROW_PITCH, 2)} for index, row in enumerate(ROWS)]
    # 12 sections of 40 seats one pitch apart need a circumference of at least 480: radius >= 77.
    lower_radius = 80.0
    upper_radius = lower_radius + len(ROWS) * ROW_PITCH + 5
    return {
        "focal_point": {"x": CENTRE[0], "y": CENTRE[1]},
        "sections": [
            {"name": "Floor", "rows": floor},
            *_ring(101, lower_radius, "Lower"),
            *_ring(201, upper_radius, "Upper"),
        ],
    }


def dump(layout: dict) -> str:
    """JSON with one row per line: readable diffs, and small enough for the API's body limit."""
    compact = {"separators": (",", ":"), "ensure_ascii": False}
    lines = ["{", f'"focal_point":{json.dumps(layout["focal_point"], **compact)},', '"sections":[']
    for s, section in enumerate(layout["sections"]):
        lines.append(f'{{"name":{json.dumps(section["name"], **compact)},"rows":[')
        rows = [json.dumps(row, **compact) for row in section["rows"]]
        lines.append(",\n".join(rows))
        lines.append("]}" + ("," if s < len(layout["sections"]) - 1 else ""))
    lines.append("]}")
    return "\n".join(lines) + "\n"


def main() -> None:
    for name, layout in (("theatre", theatre()), ("arena", arena())):
        path = HERE / f"{name}.json"
        path.write_text(dump(layout))
        seats = sum(
            row["seats"] if isinstance(row["seats"], int) else len(row["seats"])
            for section in layout["sections"]
            for row in section["rows"]
        )
        print(f"{path.name}: {seats} seats, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
