"""The back office (/office) in headless Chromium against real gunicorn: an organizer builds an event from the
theatre layout and blocks seats on its live map, a buyer on the box office sees them blocked; layout
problems by their path; what a door member, a manager and an owner see. Screenshots to artifacts/browser/.
"""

from __future__ import annotations

import json
import re

import pytest
import requests

from ..organizers import LAYOUTS
from .box_office import ARTIFACTS, PASSWORD, BoxOffice
from .box_office import expect as _expect
from .box_office import shot as _shot

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
THEATRE = LAYOUTS / "theatre.json"


class Office:
    """One person's tab of the back office."""

    def __init__(self, context, base_url: str):
        self.page = context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        # Console errors too (a CSP refusal is one), but not the browser's note of an error answer (a 409 we expect).
        self.page.on(
            "console",
            lambda message: (
                message.type == "error"
                and not message.text.startswith("Failed to load resource")
                and self.errors.append(message.text)
            ),
        )
        self.page.goto(f"{base_url}/office")

    def sign_in(self, email: str, *, register: bool = False) -> Office:
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        self.page.click("#register" if register else "#sign-in")
        self.page.locator("#signed-in").wait_for()
        return self

    def seat(self, index: int):
        """The event map's seat drawn `index`-th (seats come by id: Stalls A1 first)."""
        return self.page.locator(f'#event-plan .s[data-i="{index}"]')

    def notice(self):
        return self.page.locator("#notice-text")


class Account:
    """An account made through the API, and its Authorization header."""

    def __init__(self, base_url: str, email: str):
        self.email = email
        requests.post(f"{base_url}/auth/register", json={"email": email, "password": PASSWORD}, timeout=10)
        tokens = requests.post(f"{base_url}/auth/login", json={"email": email, "password": PASSWORD}, timeout=10).json()
        self.headers = {"Authorization": f"Bearer {tokens['access_token']}"}


def _seats(base_url: str, event_id: int) -> dict[str, dict]:
    seats = requests.get(f"{base_url}/events/{event_id}/seats", timeout=10).json()["seats"]
    return {seat["label"]: seat for seat in seats}


def test_an_organizer_builds_an_event_blocks_seats_and_a_buyer_sees_them_blocked(server_factory, contexts):
    expect = _expect()
    server = server_factory(WORKERS=2, CHANGES_POLL_MS=200)
    office = Office(contexts(**DESKTOP), server.url)
    expect(office.page.locator("#intro")).to_be_visible()
    office.sign_in("owner@example.com", register=True)

    # A new account has no organization: the form to make one is open.
    expect(office.page.locator("#no-orgs")).to_be_visible()
    office.page.fill("#org-name", "Théâtre du Parc")
    office.page.click("#org-form button[type=submit]")
    expect(office.page.locator("#org-select")).to_contain_text("Théâtre du Parc (owner)")
    expect(office.page.locator("#role-line")).to_contain_text("owner")
    expect(office.page.locator("#members-manage")).to_be_visible()
    expect(office.page.locator("#member-list")).to_contain_text("owner@example.com (you)")

    # The theatre layout from a file: previewed as it will be laid out.
    office.page.click("#new-venue summary")
    office.page.set_input_files("#layout-file", str(THEATRE))
    summary = office.page.locator("#preview-summary")
    expect(summary).to_contain_text("400 seats")
    expect(summary).to_contain_text("2 sections")
    expect(summary).to_contain_text("categories Premium, Standard, Balcony")
    expect(summary).to_contain_text("4 wheelchair places")
    expect(summary).to_contain_text("2 blocked")
    preview = office.page.locator("#preview-plan")
    expect(preview.locator(".s")).to_have_count(400)
    expect(preview.locator("rect.s")).to_have_count(4)  # the wheelchair places are squares
    expect(preview.locator(".s.is-blocked")).to_have_count(2)  # the sound desk
    expect(preview.locator(".section-name")).to_have_text(["Stalls", "Balcony"])
    expect(preview.locator(".focal")).to_have_count(1)
    expect(preview.locator(".row-name")).to_have_count(19)  # 12 rows in the stalls, 7 in the balcony
    assert office.page.locator("#venue-name").input_value() == "theatre"  # from the file's name
    office.page.fill("#venue-name", "Main hall")
    _shot(office.page, "office-venue-preview")
    office.page.click("#create-venue")
    expect(office.notice()).to_contain_text("Venue Main hall created with 400 seats")
    expect(office.page.locator("#venue-list")).to_contain_text("Main hall · 400 seats")

    # The event: the venue is chosen, and the form asks a price for each category of its layout.
    office.page.click("#new-event summary")
    expect(office.page.locator("#event-venue")).to_have_value(re.compile(r"^\d+$"))
    prices = office.page.locator("#price-fields input")
    expect(prices).to_have_count(3)
    expect(office.page.locator("#price-fields")).to_contain_text("Premium price")
    office.page.fill("#event-name", "Hamlet")
    office.page.fill("#event-starts", "2030-05-01T19:30")
    for index, price in enumerate(("45.00", "30.00", "20.00")):
        prices.nth(index).fill(price)
    office.page.click("#create-event")
    expect(office.page.locator("#event-title")).to_have_text("Hamlet")
    expect(office.page.locator("#event-facts")).to_have_attribute("data-status", "draft")
    expect(office.page.locator("#event-facts")).to_contain_text("Premium $45.00")
    office.page.click("#publish")
    expect(office.page.locator("#event-facts")).to_have_attribute("data-status", "on_sale")
    expect(office.page.locator("#event-list")).to_contain_text("On sale")
    event_id = next(
        e["id"] for e in requests.get(f"{server.url}/events", timeout=10).json()["events"] if e["name"] == "Hamlet"
    )
    seats = _seats(server.url, event_id)
    counts = office.page.locator("#counts")
    expect(counts.locator('[data-status="blocked"] .figure')).to_have_text("2")
    expect(counts.locator('[data-status="available"] .figure')).to_have_text("398")

    # A buyer opens the box office and holds Stalls A3: the office's map follows the change feed.
    buyer = BoxOffice(contexts(), server.url).open(event_id).register("buyer@example.com")
    buyer.seat(seats["Stalls A3"]["id"]).click()
    expect(buyer.seat(seats["Stalls A3"]["id"])).to_have_attribute("data-status", "mine")
    expect(office.seat(2)).to_have_class(re.compile(r"\bis-locked\b"), timeout=5_000)
    expect(counts.locator('[data-status="locked"] .figure')).to_have_text("1")

    # Blocking A3 with A4 is all or none: refused, naming the seat that refused.
    office.seat(2).click()
    office.seat(3).click()
    expect(office.page.locator("#selection-line")).to_have_text("2 selected: Stalls A3, Stalls A4.")
    office.page.click("#block")
    expect(office.notice()).to_have_text(
        "Nothing was blocked: Stalls A3 is held, in an order or sold. Unselect it and try again."
    )
    expect(office.seat(3)).not_to_have_class(re.compile(r"\bis-blocked\b"))
    office.page.click("#clear-selection")

    # Select A1, then shift-click A2 (everything between), and block both.
    office.seat(0).click()
    office.seat(1).click(modifiers=["Shift"])
    expect(office.page.locator("#selection-line")).to_have_text("2 selected: Stalls A1, Stalls A2.")
    with office.page.expect_response(lambda r: r.url.endswith(f"/events/{event_id}/seats/block")) as blocked:
        office.page.click("#block")
    assert blocked.value.status == 200
    expect(office.notice()).to_have_text("Blocked: Stalls A1, Stalls A2.")
    expect(office.seat(0)).to_have_class(re.compile(r"\bis-blocked\b"))
    expect(counts.locator('[data-status="blocked"] .figure')).to_have_text("4")
    _shot(office.page, "office-event-desktop")

    # The buyer's page sees them blocked live, and the API agrees.
    for label in ("Stalls A1", "Stalls A2"):
        expect(buyer.seat(seats[label]["id"])).to_have_attribute("data-status", "blocked", timeout=5_000)
    blocked_now = requests.get(f"{server.url}/events/{event_id}/seats?status=blocked", timeout=10).json()["seats"]
    assert sorted(seat["label"] for seat in blocked_now) == ["Stalls A1", "Stalls A2", "Stalls L12", "Stalls L15"]

    # Keyboard: the map keeps its place (A2, clicked last); the left arrow moves to A1, Space selects it.
    office.page.locator("#event-plan svg").focus()
    office.page.keyboard.press("ArrowLeft")
    expect(office.page.locator("#status")).to_have_text("Seat Stalls A1, Premium, blocked")
    office.page.keyboard.press("Space")
    expect(office.page.locator("#selection-line")).to_have_text("1 selected: Stalls A1 (1 blocked).")
    office.page.click("#unblock")
    expect(office.notice()).to_have_text("Put back on sale: Stalls A1.")
    expect(buyer.seat(seats["Stalls A1"]["id"])).to_have_attribute("data-status", "available", timeout=5_000)

    # Dragging a box over the balcony's first row, A1 to A3, selects the three.
    order = sorted(seat["id"] for seat in seats.values())
    first = office.seat(order.index(seats["Balcony A1"]["id"])).bounding_box()
    third = office.seat(order.index(seats["Balcony A3"]["id"])).bounding_box()
    office.page.mouse.move(first["x"] - 3, first["y"] - 3)
    office.page.mouse.down()
    office.page.mouse.move(third["x"] + third["width"] / 2, third["y"] + third["height"] / 2, steps=5)
    office.page.mouse.move(third["x"] + third["width"] + 3, third["y"] + third["height"] + 3, steps=5)
    office.page.mouse.up()
    expect(office.page.locator("#selection-line")).to_have_text("3 selected: Balcony A1, Balcony A2, Balcony A3.")
    office.page.keyboard.press("Escape")  # the map has the focus still: Escape clears
    expect(office.page.locator("#selection-line")).to_have_text("No seats selected.")

    # The same session on a phone.
    phone = contexts(**PHONE)
    mobile = Office(phone, server.url).sign_in("owner@example.com")
    mobile.page.locator("#event-list button", has_text="Hamlet").click()
    expect(mobile.seat(1)).to_have_class(re.compile(r"\bis-blocked\b"))
    _shot(mobile.page, "office-event-phone")
    assert office.errors == [] and mobile.errors == [] and buyer.errors == []


def test_a_layout_problem_is_shown_at_its_path(server_factory, contexts):
    expect = _expect()
    server = server_factory(WORKERS=1)
    owner = Account(server.url, "owner@example.com")
    requests.post(f"{server.url}/organizations", json={"name": "Hall"}, headers=owner.headers, timeout=10)
    office = Office(contexts(**DESKTOP), server.url).sign_in(owner.email)
    office.page.click("#new-venue summary")
    office.page.fill("#venue-name", "Small hall")

    office.page.fill("#layout-text", '{"sections": [')
    office.page.click("#preview-layout")
    expect(office.page.locator("#problem-list")).to_contain_text("The layout: This is not valid JSON")

    layout = {
        "sections": [
            {
                "name": "Hall",
                "rows": [{"name": "A", "seats": 4}, {"name": "B", "seats": [{"number": n} for n in (1, 2, 4, 4)]}],
            }
        ]
    }
    office.page.fill("#layout-text", json.dumps(layout))
    office.page.click("#preview-layout")
    expect(office.page.locator("#layout-problems")).to_be_hidden()
    expect(office.page.locator("#preview-plan .s")).to_have_count(8)
    with office.page.expect_response(lambda r: r.url.endswith("/venues")) as refused:
        office.page.click("#create-venue")
    assert refused.value.status == 400
    problem = office.page.locator('#problem-list li[data-path="sections[0].rows[1].seats"]')
    expect(problem).to_have_text(
        "Section “Hall”, row B: Seat numbers appear more than once: 4. sections[0].rows[1].seats"
    )
    expect(office.page.locator("#problems-marked")).to_be_visible()
    expect(office.page.locator("#layout-problems")).to_be_focused()
    expect(office.page.locator("#preview-plan .s.bad")).to_have_count(4)  # row B is marked on the preview
    _shot(office.page, "office-layout-problem")
    assert office.errors == []


def test_each_role_sees_what_it_may_do(server_factory, contexts):
    expect = _expect()
    server = server_factory(WORKERS=1)
    owner = Account(server.url, "owner@example.com")
    organization = requests.post(
        f"{server.url}/organizations", json={"name": "Théâtre"}, headers=owner.headers, timeout=10
    ).json()["organization"]
    for email, role in (("door@example.com", "door"), ("manager@example.com", "manager")):
        Account(server.url, email)
        answer = requests.post(
            f"{server.url}/organizations/{organization['id']}/members",
            json={"email": email, "role": role},
            headers=owner.headers,
            timeout=10,
        )
        assert answer.status_code == 201

    # Door staff: pointed to the door page, no organizer action anywhere.
    door = Office(contexts(**PHONE), server.url).sign_in("door@example.com")
    expect(door.page.locator("#org-select")).to_contain_text("Théâtre (door)")
    expect(door.page.locator("#door-note")).to_be_visible()
    expect(door.page.locator('#door-note a[href="/door"]')).to_be_visible()
    for hidden in ("#organizer", "#members", "#venues", "#events", "#event", "#block", "#venue-form", "#event-form"):
        expect(door.page.locator(hidden)).to_be_hidden()
    _shot(door.page, "office-door-phone")

    # A manager works with venues and events, not members.
    manager = Office(contexts(**DESKTOP), server.url).sign_in("manager@example.com")
    expect(manager.page.locator("#venues")).to_be_visible()
    expect(manager.page.locator("#events")).to_be_visible()
    expect(manager.page.locator("#members-owner-only")).to_be_visible()
    expect(manager.page.locator("#members-manage")).to_be_hidden()
    expect(manager.page.locator("#door-note")).to_be_hidden()

    # An owner adds a member, changes a role and removes one.
    boss = Office(contexts(**DESKTOP), server.url).sign_in(owner.email)
    rows = boss.page.locator("#member-list tr")
    expect(rows).to_have_count(3)
    Account(server.url, "usher@example.com")
    boss.page.fill("#member-email", "usher@example.com")
    boss.page.select_option("#member-role", "door")
    boss.page.click("#member-form button[type=submit]")
    expect(rows).to_have_count(4)
    boss.page.fill("#member-email", "nobody@example.com")
    boss.page.click("#member-form button[type=submit]")
    expect(boss.notice()).to_have_text(
        "There is no account with this email. Ask the person to create an account first."
    )
    boss.page.on("dialog", lambda dialog: dialog.accept())
    boss.page.locator('#member-list button[aria-label="Remove usher@example.com"]').click()
    expect(rows).to_have_count(3)
    _shot(boss.page, "office-members-desktop")
    assert door.errors == [] and manager.errors == [] and boss.errors == []


def test_the_arena_preview_and_live_map_draw_its_20000_seats(server_factory, contexts):
    """Prints how long the 20,000-seat arena takes to draw (figures, not timed asserts)."""
    expect = _expect()
    server = server_factory(WORKERS=1)
    owner = Account(server.url, "owner@example.com")
    requests.post(f"{server.url}/organizations", json={"name": "Arena"}, headers=owner.headers, timeout=10)
    office = Office(contexts(**DESKTOP), server.url).sign_in(owner.email)
    office.page.click("#new-venue summary")
    office.page.set_input_files("#layout-file", str(LAYOUTS / "arena.json"))
    summary = office.page.locator("#preview-summary")
    expect(summary).to_contain_text("20,000 seats", timeout=20_000)
    drawing = office.page.locator("#preview-plan svg")
    expect(drawing).to_have_attribute("data-seats", "20000")
    expect(drawing).to_have_attribute("data-drawing", "bulk")  # one path per look, not 20,000 elements
    drawn, total = summary.get_attribute("data-draw-ms"), summary.get_attribute("data-total-ms")
    built = summary.get_attribute("data-build-ms")
    print(
        f"\narena preview: SVG built in {built} ms, painted after {drawn} ms (with parsing and laying out: {total} ms)"
    )
    # A full-page screenshot of 20,000 SVG seats is slow to rasterise on a busy machine.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    office.page.screenshot(path=str(ARTIFACTS / "office-arena-preview.png"), full_page=True, timeout=60_000)
    office.page.get_by_role("button", name="Zoom in").first.click()
    office.page.get_by_role("button", name="Zoom in").first.click()  # 4 times: the floor's seats one by one
    scroller = office.page.locator("#preview-plan .plan-scroll")
    scroller.evaluate(
        "(box) => { box.scrollLeft = (box.scrollWidth - box.clientWidth) / 2;"
        " box.scrollTop = (box.scrollHeight - box.clientHeight) / 2; }"
    )
    scroller.screenshot(path=str(ARTIFACTS / "office-arena-zoomed.png"), timeout=60_000)

    # The venue (the 1 MB layout in one request), then an event: two categories and the floor's default price.
    office.page.click("#create-venue")
    expect(office.notice()).to_contain_text("created with 20,000 seats", timeout=30_000)
    office.page.click("#new-event summary")
    expect(office.page.locator("#price-fields")).to_contain_text("Price of seats without a category")
    office.page.fill("#event-name", "Final")
    office.page.fill("#event-starts", "2030-05-01T19:30")
    office.page.fill("#price-0", "80")
    office.page.fill("#price-1", "50")
    office.page.fill("#price-default", "120")
    office.page.click("#create-event")
    expect(office.page.locator("#event-plan svg")).to_have_attribute("data-seats", "20000", timeout=30_000)
    counts = office.page.locator("#counts")
    expect(counts.locator('[data-status="available"] .figure')).to_have_text("20,000")
    print(f"arena event map: painted after {office.page.locator('#event-plan').get_attribute('data-draw-ms')} ms")

    # In a bulk drawing seats are found under the pointer by their position: click Floor A1 (x 1, y 0), block it.
    x, y = office.page.evaluate(
        """() => {
            const svg = document.querySelector("#event-plan svg");
            svg.scrollIntoView({ block: "center" });
            const point = new DOMPoint(1, 0).matrixTransform(svg.getScreenCTM());
            return [point.x, point.y];
        }"""
    )
    office.page.mouse.click(x, y)
    expect(office.page.locator("#selection-line")).to_have_text("1 selected: Floor A1.")
    office.page.click("#block")
    expect(office.notice()).to_have_text("Blocked: Floor A1.")
    expect(counts.locator('[data-status="blocked"] .figure')).to_have_text("1")
    expect(office.page.locator("#event-plan path.is-blocked")).to_have_count(1)
    assert office.errors == []
