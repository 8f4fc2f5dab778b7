"""The box office's "Find me N seats": the block the server holds lights up as the buyer's, others see
it held, and an orphan refusal at checkout names the seat that would be left alone."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from ticketing.extensions import db
from ticketing.models import Event

from .box_office import BoxOffice, expect, new_event, shot

pytestmark = pytest.mark.browser


def test_find_me_seats_holds_the_best_block_and_checkout_names_an_orphan(server_factory, backdoor, contexts):
    check = expect()
    server = server_factory(WORKERS=2)
    event_id, seat_ids = new_event(backdoor, server, rows="A-C", per_row=10)
    a1, a2, a3, a4, a5, a6 = seat_ids[:6]
    buyer = BoxOffice(contexts(), server.url).open(event_id).register("best@example.com")
    watcher = BoxOffice(contexts(), server.url).open(event_id)

    buyer.page.fill("#best-count", "3")
    check(buyer.page.locator("#best-find")).to_have_text("Find me 3 seats")
    buyer.page.click("#best-find")
    # The middle of the first row: A4-A6 and A5-A7 are as near, the lower number wins.
    for seat_id in (a4, a5, a6):
        check(buyer.seat(seat_id)).to_have_attribute("data-status", "mine")
        check(watcher.seat(seat_id)).to_have_attribute("data-status", "locked", timeout=3_000)
    check(buyer.notice()).to_contain_text("Seats A4, A5, A6 are held for you.")
    check(buyer.page.locator("#held")).to_contain_text("A5")
    shot(buyer.page, "best-available")

    # The organizer turns on the orphan rule; a seat picked by hand would leave A1 and A3 alone.
    with backdoor.app.app_context():
        db.session.execute(update(Event).where(Event.id == event_id).values(no_orphan_seats=True))
        db.session.commit()
    buyer.seat(a2).click()
    check(buyer.seat(a2)).to_have_attribute("data-status", "mine")
    buyer.page.click("#checkout")
    check(buyer.notice()).to_contain_text("Seats A1, A3 would each be left on their own between taken seats")
    check(buyer.seat(a1)).to_have_attribute("data-status", "available")
    check(buyer.seat(a3)).to_have_attribute("data-status", "available")
    shot(buyer.page, "best-available-orphan")


def test_find_me_seats_on_a_phone_and_when_nothing_fits(server_factory, backdoor, contexts):
    check = expect()
    server = server_factory(WORKERS=1)
    event_id, _seat_ids = new_event(backdoor, server, rows="A", per_row=4)
    phone = contexts(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    buyer = BoxOffice(phone, server.url).open(event_id).register("phone-best@example.com")
    buyer.page.fill("#best-count", "5")
    buyer.page.click("#best-find")
    check(buyer.notice()).to_contain_text("There aren't that many free seats together right now.")
    buyer.page.fill("#best-count", "2")
    buyer.page.click("#best-find")
    check(buyer.notice()).to_contain_text("Seats A1, A2 are held for you.")  # A2-A3 would leave A1 alone
    shot(buyer.page, "best-available-phone")
