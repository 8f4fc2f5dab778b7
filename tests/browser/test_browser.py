"""The box-office page in headless Chromium (Debian's, driven by Playwright for Python), against real gunicorn.

Each test starts its own server on the test database and drives the page as people would: the mouse,
the keyboard, a phone-sized screen. Screenshots go to artifacts/browser/.

Chromium comes from Debian (`apt-get install chromium`); no browser is downloaded. Without it these
tests skip, except where REQUIRE_BROWSER or CI is set (`.ci/run` installs it): there they fail.
"""

from __future__ import annotations

import re

import pytest
import requests

from .box_office import TICKET_CODE, BoxOffice
from .box_office import expect as _expect
from .box_office import new_event as _event
from .box_office import shot as _shot

pytestmark = pytest.mark.browser


def test_two_people_see_each_others_holds_live_and_the_expiry(server_factory, backdoor, contexts):
    expect = _expect()
    server = server_factory(WORKERS=2, HOLD_TTL_SECONDS=4, CHANGES_POLL_MS=200)
    event_id, seat_ids = _event(backdoor, server)
    seat = seat_ids[2]  # A3
    alice = BoxOffice(contexts(), server.url).open(event_id).register("alice@example.com")
    bob = BoxOffice(contexts(), server.url).open(event_id).register("bob@example.com")
    expect(bob.seat(seat)).to_have_attribute("data-status", "available")

    with alice.page.expect_response(lambda r: r.url.endswith(f"/seats/{seat}/lock")) as locked:
        alice.seat(seat).click()
    assert locked.value.status == 200
    expect(alice.seat(seat)).to_have_attribute("data-status", "mine")
    expect(alice.page.locator("#held")).to_contain_text("A3")
    expect(alice.page.locator("#held .countdown")).to_have_text(re.compile(r"held 0:0[0-4]"))

    # Bob's page follows the change feed: the seat turns "held by someone else" within 2 s, no reload.
    expect(bob.seat(seat)).to_have_attribute("data-status", "locked", timeout=2_000)
    expect(bob.seat(seat)).to_have_attribute("aria-label", re.compile(r"^Seat A3, held by someone else"))
    _shot(bob.page, "seat-map-live")

    with bob.page.expect_response(lambda r: r.url.endswith(f"/seats/{seat}/lock")) as refused:
        bob.seat(seat).click()
    assert refused.value.status == 409
    expect(bob.notice()).to_contain_text("Someone else is holding this seat")
    expect(bob.seat(seat)).to_have_attribute("data-status", "locked")

    # Alice's 4-second hold runs out with nobody doing anything: both pages show the seat free again.
    expect(bob.seat(seat)).to_have_attribute("data-status", "available", timeout=10_000)
    expect(alice.seat(seat)).to_have_attribute("data-status", "available", timeout=5_000)
    expect(alice.notice()).to_contain_text("ran out")

    with bob.page.expect_response(lambda r: r.url.endswith(f"/seats/{seat}/lock")) as taken:
        bob.seat(seat).click()
    assert taken.value.status == 200
    expect(bob.seat(seat)).to_have_attribute("data-status", "mine")
    expect(alice.seat(seat)).to_have_attribute("data-status", "locked", timeout=2_000)
    assert alice.errors == [] and bob.errors == []


def test_a_full_purchase_ends_with_the_ticket_codes(server_factory, backdoor, contexts):
    expect = _expect()
    server = server_factory(WORKERS=2)
    event_id, seat_ids = _event(backdoor, server, rows="A-E", per_row=12, price_cents=2500)
    buyer = BoxOffice(contexts(viewport={"width": 1280, "height": 900}), server.url).open(event_id)
    watcher = BoxOffice(contexts(), server.url).open(event_id)
    expect(buyer.page.locator("#price-note")).to_have_text("Price: $25.00 a seat")
    buyer.register("buyer@example.com")

    first, second = seat_ids[14], seat_ids[15]  # B3, B4
    buyer.seat(first).click()
    expect(buyer.seat(first)).to_have_attribute("data-status", "mine")
    buyer.seat(second).click()
    expect(buyer.seat(second)).to_have_attribute("data-status", "mine")
    expect(buyer.page.locator("#basket-total")).to_have_text("Total: $50.00")
    _shot(buyer.page, "seat-map")

    buyer.page.click("#checkout")
    expect(buyer.page.locator("#order-summary")).to_contain_text("seats B3, B4. Total $50.00.")
    expect(buyer.page.locator("#order-deadline")).to_contain_text("held for 9:5")  # 10 minutes to pay
    buyer.page.check('input[value="tok_visa"]')
    buyer.page.click("#pay")

    tickets = buyer.page.locator("#ticket-list li")
    expect(tickets).to_have_count(2)
    expect(tickets.nth(0)).to_contain_text("Seat B3 · order ")
    expect(tickets.nth(1)).to_contain_text("Seat B4 · order ")
    codes = buyer.page.locator("#ticket-list code").all_inner_texts()
    assert all(TICKET_CODE.match(code) for code in codes) and len(set(codes)) == 2
    expect(buyer.seat(first)).to_have_attribute("data-status", "booked")
    expect(watcher.seat(second)).to_have_attribute("data-status", "booked", timeout=2_000)
    _shot(buyer.page, "tickets")

    # The codes on the page are the ones the API issued to this buyer.
    token = buyer.page.evaluate("JSON.parse(sessionStorage.getItem('ticketing.tokens')).access_token")
    orders = requests.get(f"{server.url}/orders", headers={"Authorization": f"Bearer {token}"}).json()["orders"]
    assert orders[0]["status"] == "paid" and sorted(t["code"] for t in orders[0]["tickets"]) == sorted(codes)
    assert buyer.errors == [] and watcher.errors == []


def test_a_declined_card_says_why_and_frees_the_seats(server_factory, backdoor, contexts):
    expect = _expect()
    server = server_factory(WORKERS=2)
    event_id, seat_ids = _event(backdoor, server, price_cents=4000)
    buyer = BoxOffice(contexts(), server.url).open(event_id).register("declined@example.com")
    watcher = BoxOffice(contexts(), server.url).open(event_id)
    seat = seat_ids[0]

    buyer.seat(seat).click()
    expect(buyer.seat(seat)).to_have_attribute("data-status", "mine")
    buyer.page.click("#checkout")
    expect(watcher.seat(seat)).to_have_attribute("data-status", "locked", timeout=2_000)

    buyer.page.check('input[value="tok_processingError"]')  # a gateway failure: nothing lost, try again
    buyer.page.click("#pay")
    expect(buyer.notice()).to_contain_text("payment service had a problem and nothing was charged")
    expect(buyer.page.locator("#order")).to_be_visible()
    expect(buyer.seat(seat)).to_have_attribute("data-status", "mine")

    buyer.page.check('input[value="tok_chargeDeclined"]')
    buyer.page.click("#pay")
    expect(buyer.notice()).to_contain_text("Your card was declined. Nothing was charged")
    expect(buyer.page.locator("#order")).to_be_hidden()
    expect(buyer.seat(seat)).to_have_attribute("data-status", "available")
    expect(watcher.seat(seat)).to_have_attribute("data-status", "available", timeout=2_000)
    _shot(buyer.page, "declined")
    assert buyer.errors == [] and watcher.errors == []


def test_api_errors_read_as_plain_words(server_factory, backdoor, contexts):
    expect = _expect()
    server = server_factory(WORKERS=1, MAX_SEATS_PER_USER=1)
    event_id, seat_ids = _event(backdoor, server)
    page = BoxOffice(contexts(), server.url).open(event_id)

    page.seat(seat_ids[0]).click()
    expect(page.notice()).to_have_text("Sign in or create an account to hold seats.")

    page.page.fill("#email", "someone@example.com")
    page.page.fill("#password", "short")
    page.page.click("#register")
    expect(page.notice()).to_contain_text("Please check what you entered. Password:")

    page.page.fill("#password", "wrong password")
    page.page.click("#sign-in")
    expect(page.notice()).to_have_text(
        "That email and password don't match an account. Check them, or create an account."
    )

    page.register("someone@example.com")
    page.seat(seat_ids[0]).click()
    expect(page.seat(seat_ids[0])).to_have_attribute("data-status", "mine")
    page.seat(seat_ids[1]).click()
    expect(page.notice()).to_contain_text("You are holding as many seats as one person may.")
    assert "hold_limit_reached" not in page.notice().inner_text()
    assert page.errors == []


def test_the_map_works_with_the_keyboard_alone(server_factory, backdoor, contexts):
    expect = _expect()
    server = server_factory(WORKERS=1)
    event_id, seat_ids = _event(backdoor, server, rows="A-C", per_row=5)
    page = BoxOffice(contexts(), server.url).open(event_id).register("keys@example.com")
    keyboard = page.page.keyboard

    page.page.focus("#sign-out")
    # Tab order: the map has exactly one seat in it; arrow keys move inside the map.
    for _ in range(10):
        keyboard.press("Tab")
        if page.page.evaluate("document.activeElement.classList.contains('seat')"):
            break
    assert page.page.evaluate("document.activeElement.dataset.seatId") == str(seat_ids[0])
    keyboard.press("ArrowRight")
    keyboard.press("ArrowRight")
    keyboard.press("ArrowDown")  # B3
    assert page.page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Seat B3, available")
    keyboard.press("Enter")
    expect(page.seat(seat_ids[7])).to_have_attribute("data-status", "mine")
    keyboard.press("Space")
    expect(page.seat(seat_ids[7])).to_have_attribute("data-status", "available")
    keyboard.press("End")
    assert page.page.evaluate("document.activeElement.dataset.seatId") == str(seat_ids[9])  # B5
    assert page.errors == []


def test_a_phone_sized_screen_shows_the_map_and_the_basket(server_factory, backdoor, contexts):
    expect = _expect()
    server = server_factory(WORKERS=1)
    event_id, seat_ids = _event(backdoor, server, rows="A-T", per_row=30)
    phone = contexts(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = BoxOffice(phone, server.url).open(event_id).register("phone@example.com")

    # Nothing sticks out sideways but the map, which scrolls inside its own box.
    assert page.page.evaluate("document.documentElement.scrollWidth") <= 390
    page.seat(seat_ids[25]).scroll_into_view_if_needed()
    page.seat(seat_ids[25]).tap()
    expect(page.seat(seat_ids[25])).to_have_attribute("data-status", "mine")
    expect(page.page.locator("#checkout")).to_be_visible()
    _shot(page.page, "phone")
    assert page.errors == []


def test_a_twenty_thousand_seat_event_stays_usable(server_factory, backdoor, contexts):
    """The whole map is drawn and a lock still colours its seat (the timings are in bench/browser.py)."""
    expect = _expect()
    server = server_factory(WORKERS=2, CHANGES_POLL_MS=200)
    event_id, seat_ids = _event(backdoor, server, rows="A-CV", per_row=200)  # 100 rows x 200
    assert len(seat_ids) == 20_000
    page = BoxOffice(contexts(), server.url).open(event_id).register("big@example.com")
    watcher = BoxOffice(contexts(), server.url).open(event_id)
    expect(page.page.locator(".seat")).to_have_count(20_000)
    expect(page.page.locator("#event-summary")).to_have_text(re.compile(r"^20000 available"))

    last = page.seat(seat_ids[-1])
    last.scroll_into_view_if_needed()
    last.click()
    expect(last).to_have_attribute("data-status", "mine")
    expect(watcher.seat(seat_ids[-1])).to_have_attribute("data-status", "locked", timeout=2_000)
    assert page.errors == [] and watcher.errors == []
