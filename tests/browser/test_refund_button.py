"""The buyer's "Refund" button on "Your tickets" (issue 14): shown while the event takes refunds from
buyers, asks to confirm, refunds one ticket, and the seat is on the map again."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import update

from ticketing.extensions import db
from ticketing.models import Event, utcnow

from .box_office import BoxOffice, expect, new_event, shot

pytestmark = pytest.mark.browser


def _buy(office: BoxOffice, seat_ids: list[int], token: str = "tok_visa") -> None:
    for seat_id in seat_ids:
        office.seat(seat_id).click()
        expect()(office.seat(seat_id)).to_have_attribute("data-status", "mine")
    office.page.click("#checkout")
    office.page.check(f'input[value="{token}"]')
    office.page.click("#pay")
    expect()(office.page.locator("#order")).to_be_hidden()


def _refunds_until(backdoor, event_id: int, days: float | None) -> None:
    until = None if days is None else utcnow() + timedelta(days=days)
    with backdoor.app.app_context():
        db.session.execute(update(Event).where(Event.id == event_id).values(buyer_refunds_until=until))
        db.session.commit()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_buyer_refunds_a_ticket_from_the_page(server_factory, backdoor, contexts, device):
    check = expect()
    server = server_factory(WORKERS=2)
    event_id, seat_ids = new_event(backdoor, server, rows="A", per_row=6, price_cents=2000)
    _refunds_until(backdoor, event_id, days=2)
    options = {"viewport": {"width": 1280, "height": 900}}
    if device == "phone":
        options = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    buyer = BoxOffice(contexts(**options), server.url).open(event_id).register(f"refund-{device}@example.com")
    _buy(buyer, seat_ids[1:3])  # A2, A3

    items = buyer.page.locator("#ticket-list li")
    check(items).to_have_count(2)
    buttons = buyer.page.locator("#ticket-list button.refund")
    check(buttons).to_have_count(2)
    check(buttons.first).to_have_text("Refund 20.00")
    shot(buyer.page, f"refund-button-{device}")

    first = items.first
    code = first.get_attribute("data-code")
    first.locator("button.refund").click()
    check(first.locator("button.refund")).to_have_text("Confirm refund of seat A2")
    first.locator("button.refund").click()
    check(buyer.notice()).to_contain_text("Seat A2 refunded: 20.00 USD goes back to your card.")
    refunded = buyer.page.locator(f'#ticket-list li[data-code="{code}"]')
    check(refunded).to_have_class("void")
    check(refunded.locator(".ticket-seat")).to_contain_text("refunded")
    check(refunded.locator("button.refund")).to_have_count(0)
    check(buyer.page.locator("#ticket-list button.refund")).to_have_count(1)
    check(buyer.seat(seat_ids[1])).to_have_attribute("data-status", "available")  # on sale again, live
    shot(buyer.page, f"refund-done-{device}")

    order = requests.get(f"{server.url}/orders", headers={"Authorization": f"Bearer {buyer.token()}"}).json()
    assert order["orders"][0]["status"] == "partially_refunded" and order["orders"][0]["refunded_total"] == "20.00"
    assert buyer.errors == []


def test_no_button_when_the_event_takes_no_refunds_and_a_refusal_is_explained(server_factory, backdoor, contexts):
    check = expect()
    server = server_factory(WORKERS=2)
    event_id, seat_ids = new_event(backdoor, server, rows="A", per_row=4, price_cents=1000)
    buyer = BoxOffice(contexts(), server.url).open(event_id).register("no-refunds@example.com")
    _buy(buyer, [seat_ids[0]])
    check(buyer.page.locator("#ticket-list li")).to_have_count(1)
    check(buyer.page.locator("#ticket-list button.refund")).to_have_count(0)

    # Refunds open, but the gateway refuses this order's refunds: the ticket stays, the page says why.
    _refunds_until(backdoor, event_id, days=1)
    _buy(buyer, [seat_ids[1]], token="tok_refundFails")
    failing = buyer.page.locator("#ticket-list li").first  # the newest purchase
    failing.locator("button.refund").click()
    failing.locator("button.refund").click()
    check(buyer.notice()).to_contain_text("did not refund this ticket, and nothing changed")
    check(failing.locator("button.refund")).to_be_enabled()
    check(failing).not_to_have_class("void")
    assert buyer.errors == []
