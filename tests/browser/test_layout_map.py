"""The seat map of events made from a venue's layout: seats where the layout puts them, sections named, the
stage, a legend entry per price category with its price, wheelchair spaces marked; and the 20,000-seat arena.

Events are made on the server's database as `seed-demo` makes the demo theatre (the organizer services),
then driven in headless Chromium against real gunicorn. Screenshots go to artifacts/browser/.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from ticketing.clock import current_clock
from ticketing.extensions import db
from ticketing.models import ON_SALE
from ticketing.services import organizer
from ticketing.services.auth import register_user
from ticketing.services.demo import seed_demo_organizer
from ticketing.services.organizations import create_organization
from ticketing.services.venues import create_venue

from .box_office import ARTIFACTS, BoxOffice
from .box_office import expect as _expect
from .box_office import shot as _shot

pytestmark = pytest.mark.browser

LAYOUTS = Path(__file__).resolve().parents[2] / "docs" / "layouts"


def _layout(name: str) -> dict:
    return json.loads((LAYOUTS / f"{name}.json").read_text())


def _theatre(backdoor) -> int:
    """The demo theatre event of `seed-demo` (Hamlet: Premium 45, Standard 30, Balcony 20): its id."""
    with backdoor.app.app_context():
        demo = seed_demo_organizer(theatre_layout=_layout("theatre"), clock=current_clock())
        db.session.remove()
    return demo.event_id


def _arena(backdoor) -> int:
    """An on-sale event at the example arena (Lower 60.00, Upper 35.00, the floor at 90.00): its id."""
    with backdoor.app.app_context():
        clock = current_clock()
        user = register_user(email=f"arena-{uuid.uuid4().hex[:8]}@example.com", password="-" * 12, name=None)
        organization = create_organization(name="Arena company", owner_id=user.id)
        venue = create_venue(user_id=user.id, organization_id=organization.id, name="Arena", layout=_layout("arena"))
        event = organizer.create_event(
            user_id=user.id,
            organization_id=organization.id,
            event=organizer.NewEvent(
                name="Arena night",
                venue_id=venue.id,
                starts_at=clock() + timedelta(days=30),
                currency="USD",
                categories=[("Lower", 6000), ("Upper", 3500)],
                default_price_cents=9000,
                sales_start=None,
                sales_end=None,
                no_orphan_seats=False,
                buyer_refunds_until=None,
            ),
            clock=clock,
        )
        organizer.set_status(user_id=user.id, event_id=event.id, status=ON_SALE, clock=clock)
        db.session.remove()
    return event.id


def _slow_shot(page, name: str) -> None:
    """A screenshot of the page as it is on screen: painting 20,000 seats takes longer than the default wait."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), timeout=60_000)


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


def _seat_box(office: BoxOffice, label: str) -> dict:
    return _box(office.page, f'.seat[aria-label^="Seat {label},"]')


def test_the_theatre_draws_sections_prices_and_wheelchair_spaces(server_factory, backdoor, contexts):
    expect = _expect()
    server = server_factory(WORKERS=1)
    event_id = _theatre(backdoor)
    office = BoxOffice(contexts(viewport={"width": 1280, "height": 900}), server.url)
    office.page.goto(server.url)  # no ?event=: the page opens on the theatre, the event with a seating plan
    office.page.locator(".seat").first.wait_for()
    expect(office.page.locator("#event-select")).to_have_value(str(event_id))
    page = office.page
    expect(page.locator(".seat")).to_have_count(400)

    # Sections named; the stage drawn in front of the stalls (row A's side, as the focal point says).
    expect(page.locator(".section-label")).to_have_text(["Stalls", "Balcony"])
    expect(page.locator(".plan-stage")).to_have_text("Stage")
    expect(page.locator("#stage")).to_be_hidden()  # the row drawing's stage line is not used here

    # The legend: each category with its price and its look in words; symbols explained.
    legend = page.locator("#categories li")
    expect(legend).to_have_text(
        [
            "Premium $45.00 (purple)",
            "Standard $30.00 (teal, with a dot)",
            "Balcony $20.00 (pink, with a bar)",
            "Wheelchair space",
            "Not for sale",
        ]
    )
    expect(page.locator("#legend-available")).to_be_hidden()
    expect(page.locator("#price-note")).to_have_text("")
    expect(page.locator("#event-summary")).to_have_text("398 available · 0 held · 0 sold · 2 not for sale · 400 seats")

    # Wheelchair spaces: the symbol, and said in the seat's name.
    wheelchair = page.locator(".seat[data-accessible]")
    expect(wheelchair).to_have_count(4)
    expect(wheelchair.first).to_have_attribute(
        "aria-label", "Seat Stalls L1, available, $30.00, Standard, wheelchair space"
    )
    assert page.evaluate(
        "getComputedStyle(document.querySelector('.seat[data-accessible]'), '::after').backgroundImage"
    ).startswith('url("data:image/svg+xml')
    expect(page.locator('.seat[aria-label^="Seat Stalls L12,"]')).to_have_attribute("data-status", "blocked")
    expect(page.locator('.seat[aria-label^="Seat Stalls A1,"]')).to_have_attribute(
        "aria-label", "Seat Stalls A1, available, $45.00, Premium"
    )

    # Placed as the layout says: the stage above row A, the balcony (y 14-20) below the stalls (y 0-11),
    # its 16 seats centred over the stalls' 24, and the aisle between seats 12 and 15.
    stage = _box(page, ".plan-stage")
    a1, a12, a15, a26 = (_seat_box(office, label) for label in ("Stalls A1", "Stalls A12", "Stalls A15", "Stalls A26"))
    l1 = _seat_box(office, "Stalls L1")
    balcony_a1, balcony_a16 = _seat_box(office, "Balcony A1"), _seat_box(office, "Balcony A16")
    balcony_label = _box(page, ".section-label >> text=Balcony")
    assert stage["y"] + stage["height"] < a1["y"]
    assert l1["y"] + l1["height"] < balcony_label["y"] < balcony_a1["y"]
    assert abs(a1["y"] - a26["y"]) < 1 and a1["x"] < a12["x"] < a15["x"] < a26["x"]
    pitch = (a12["x"] - a1["x"]) / 11
    assert a15["x"] - a12["x"] == pytest.approx(3 * pitch, rel=0.05)  # seats 13 and 14 are the aisle
    assert a1["x"] < balcony_a1["x"] and balcony_a16["x"] < a26["x"]
    assert (balcony_a1["x"] + balcony_a16["x"]) / 2 == pytest.approx((a1["x"] + a26["x"]) / 2, abs=2)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    _shot(page, "theatre")
    assert office.errors == []


def test_holding_a_theatre_seat_and_moving_with_the_keyboard(server_factory, backdoor, contexts):
    expect = _expect()
    server = server_factory(WORKERS=2, CHANGES_POLL_MS=200)
    event_id = _theatre(backdoor)
    buyer = BoxOffice(contexts(viewport={"width": 1100, "height": 1000}), server.url).open(event_id)
    watcher = BoxOffice(contexts(), server.url).open(event_id)
    buyer.register("theatre@example.com")
    page = buyer.page

    # Someone else holds two seats: amber on the buyer's page. The buyer buys two: hatched, sold.
    watcher.register("other@example.com")
    for label in ("Stalls C7", "Stalls C8"):
        watcher.page.locator(f'.seat[aria-label^="Seat {label},"]').click()
        expect(page.locator(f'.seat[aria-label^="Seat {label},"]')).to_have_attribute(
            "data-status", "locked", timeout=2_000
        )
    for label in ("Stalls A12", "Stalls A15"):
        page.locator(f'.seat[aria-label^="Seat {label},"]').click()
        expect(page.locator(f'.seat[aria-label^="Seat {label},"]')).to_have_attribute("data-status", "mine")
    page.click("#checkout")
    page.check('input[value="tok_visa"]')
    page.click("#pay")
    expect(page.locator("#ticket-list li")).to_have_count(2)
    expect(page.locator('.seat[aria-label^="Seat Stalls A12,"]')).to_have_attribute("data-status", "booked")

    seat = page.locator('.seat[aria-label^="Seat Balcony C8,"]')
    seat.click()
    expect(seat).to_have_attribute("data-status", "mine")
    expect(seat).to_have_attribute("aria-label", "Seat Balcony C8, held by you, $20.00, Balcony")
    expect(page.locator("#held")).to_contain_text("Balcony C8 · $20.00")
    seat_id = seat.get_attribute("data-seat-id")
    expect(watcher.seat(int(seat_id))).to_have_attribute("data-status", "locked", timeout=2_000)

    # A wheelchair space held shows the symbol on the "held by you" colour.
    wheelchair = page.locator('.seat[aria-label^="Seat Stalls L26,"]')
    wheelchair.click()
    expect(wheelchair).to_have_attribute("data-status", "mine")
    expect(page.locator("#basket-total")).to_have_text("Total: $50.00")
    page.locator('.seat[aria-label^="Seat Stalls F10,"]').click()
    expect(page.locator('.seat[aria-label^="Seat Stalls F10,"]')).to_have_attribute("data-status", "mine")
    page.mouse.move(0, 0)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    readme = {"x": 0, "y": 0, "width": 1100, "height": 860}
    page.screenshot(path=str(ARTIFACTS / "theatre-readme.png"), clip=readme)  # docs/seat-map.png is a copy

    # A seat not for sale says so.
    page.locator('.seat[aria-label^="Seat Stalls L12,"]').click()
    expect(buyer.notice()).to_contain_text("This seat is not for sale")

    # Arrow keys move by position: right across the aisle, down to the next row, down from the stalls'
    # last row to the balcony's first.
    page.locator('.seat[aria-label^="Seat Stalls K12,"]').focus()
    keyboard = page.keyboard
    keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Seat Stalls K15,")
    keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Seat Stalls L15,")
    keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Seat Balcony A")
    keyboard.press("End")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Seat Balcony A16,")
    keyboard.press("Enter")
    expect(page.locator('.seat[aria-label^="Seat Balcony A16,"]')).to_have_attribute("data-status", "mine")
    _shot(page, "theatre-held")
    assert buyer.errors == [] and watcher.errors == []


def test_the_theatre_on_a_phone(server_factory, backdoor, contexts):
    expect = _expect()
    server = server_factory(WORKERS=1)
    event_id = _theatre(backdoor)
    phone = contexts(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    office = BoxOffice(phone, server.url).open(event_id).register("phone-theatre@example.com")
    page = office.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # only the map scrolls sideways
    expect(page.locator("#categories li")).to_have_count(5)
    seat = page.locator('.seat[aria-label^="Seat Stalls F20,"]')
    seat.scroll_into_view_if_needed()
    seat.tap()
    expect(seat).to_have_attribute("data-status", "mine")
    expect(page.locator("#checkout")).to_be_visible()
    size = seat.bounding_box()
    assert size["width"] >= 19  # a finger can hit it
    _shot(page, "theatre-phone")
    assert office.errors == []


def test_the_arena_draws_its_twenty_thousand_seats_in_rings(server_factory, backdoor, contexts):
    expect = _expect()
    server = server_factory(WORKERS=2, CHANGES_POLL_MS=200)
    event_id = _arena(backdoor)
    office = BoxOffice(contexts(viewport={"width": 1280, "height": 900}), server.url).open(event_id)
    office.register("arena@example.com")
    page = office.page
    expect(page.locator(".seat")).to_have_count(20_000)
    expect(page.locator(".section-label")).to_have_count(25)  # the floor and 24 sections
    expect(page.locator(".plan-stage")).to_have_count(0)  # the focal point is in the middle: no side is the stage's
    expect(page.locator("#categories li")).to_have_text(
        ["Lower $60.00 (purple)", "Upper $35.00 (teal, with a dot)", "Other seats $90.00 (green outline)"]
    )

    # The rings are around the floor: section 101 (from 15°) right of and below the floor's middle.
    floor = _seat_box(office, "Floor J20")
    lower = _seat_box(office, "101 A20")
    assert lower["x"] > floor["x"] and lower["y"] > floor["y"]

    seat = page.locator('.seat[aria-label^="Seat 101 A20,"]')
    seat.scroll_into_view_if_needed()
    seat.click()
    expect(seat).to_have_attribute("data-status", "mine")
    expect(page.locator("#held")).to_contain_text("101 A20 · $60.00")
    _slow_shot(page, "arena")

    # Zooming out shows more of the arena; the held seat keeps its state.
    before = seat.bounding_box()["width"]
    for _ in range(7):  # as far as it goes: the whole arena in view
        page.click("#zoom-out")
    assert seat.bounding_box()["width"] < before * 0.3
    expect(seat).to_have_attribute("data-status", "mine")
    expect(page.locator(".row-name").first).to_be_hidden()  # smaller than the rows: left out
    _slow_shot(page, "arena-zoomed-out")
    assert re.match(r"^19999 available · 1 held", page.locator("#event-summary").inner_text())
    assert office.errors == []
