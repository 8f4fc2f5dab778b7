"""Checkout on the page: a declined card keeps the basket one click away, and a payment whose answer
was lost is retried with the same Idempotency-Key (so it is paid once and the seats are kept)."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from ticketing.extensions import db
from ticketing.models import Payment

from .box_office import BoxOffice, expect, new_event, shot

pytestmark = pytest.mark.browser


def _check_out(office: BoxOffice, seat_ids: list[int]) -> None:
    for seat_id in seat_ids:
        office.seat(seat_id).click()
        expect()(office.seat(seat_id)).to_have_attribute("data-status", "mine")
    office.page.click("#checkout")
    expect()(office.page.locator("#order")).to_be_visible()


def _decline(office: BoxOffice) -> None:
    office.page.check('input[value="tok_chargeDeclined"]')
    office.page.click("#pay")
    expect()(office.notice()).to_contain_text("Your card was declined. Nothing was charged")


def test_after_a_declined_card_one_click_holds_the_same_seats_again(server_factory, backdoor, contexts):
    check = expect()
    server = server_factory(WORKERS=2)
    event_id, seat_ids = new_event(backdoor, server, price_cents=4000)
    a1, a2 = seat_ids[0], seat_ids[1]
    buyer = BoxOffice(contexts(), server.url).open(event_id).register("retry@example.com")
    watcher = BoxOffice(contexts(), server.url).open(event_id)
    _check_out(buyer, [a1, a2])
    _decline(buyer)

    # The contract holds: the order failed and its seats are free for anyone...
    check(buyer.page.locator("#order")).to_be_hidden()
    check(watcher.seat(a2)).to_have_attribute("data-status", "available", timeout=2_000)
    check(buyer.seat(a1)).to_have_attribute("data-status", "available")
    # ...and the buyer gets them back in one click.
    check(buyer.page.locator("#retry-summary")).to_have_text(
        "Your card was declined, so seats A1, A2 were released. You can hold them again and pay with another card."
    )
    shot(buyer.page, "declined-retry")
    buyer.page.click("text=Try again with these seats")
    check(buyer.page.locator("#order-summary")).to_contain_text("seats A1, A2. Total $80.00.")
    check(buyer.page.locator("#retry")).to_be_hidden()
    check(buyer.seat(a1)).to_have_attribute("data-status", "mine")
    check(watcher.seat(a1)).to_have_attribute("data-status", "locked", timeout=2_000)

    buyer.page.check('input[value="tok_visa"]')
    buyer.page.click("#pay")
    check(buyer.page.locator("#ticket-list li")).to_have_count(2)
    check(buyer.seat(a2)).to_have_attribute("data-status", "booked")
    orders = requests.get(f"{server.url}/orders", headers={"Authorization": f"Bearer {buyer.token()}"}).json()
    assert [order["status"] for order in orders["orders"]] == ["paid", "payment_failed"]
    assert buyer.errors == [] and watcher.errors == []


def test_a_retry_when_someone_took_a_seat_meanwhile_names_it(server_factory, backdoor, contexts):
    check = expect()
    server = server_factory(WORKERS=2)
    event_id, seat_ids = new_event(backdoor, server, price_cents=4000)
    a1, a2 = seat_ids[0], seat_ids[1]
    buyer = BoxOffice(contexts(), server.url).open(event_id).register("unlucky@example.com")
    _check_out(buyer, [a1, a2])
    _decline(buyer)
    quicker = backdoor.users(1)[0]
    assert requests.post(f"{server.url}/seats/{a2}/lock", headers=quicker["headers"]).status_code == 200

    buyer.page.click("#retry-order")
    check(buyer.notice()).to_contain_text("Some of your seats are no longer available: A2.")
    check(buyer.page.locator("#retry")).to_be_hidden()
    check(buyer.page.locator("#order")).to_be_hidden()
    check(buyer.seat(a2)).to_have_attribute("data-status", "locked")
    check(buyer.seat(a1)).to_have_attribute("data-status", "available")  # all or none
    assert buyer.errors == []


def test_pay_keeps_one_idempotency_key_per_order_across_a_lost_answer(server_factory, backdoor, contexts):
    check = expect()
    server = server_factory(WORKERS=2)
    event_id, seat_ids = new_event(backdoor, server, price_cents=2500)
    buyer = BoxOffice(contexts(), server.url).open(event_id).register("flaky@example.com")
    _check_out(buyer, seat_ids[:2])

    keys: list[str | None] = []

    def lose_the_first_answer(route, request):
        keys.append(request.headers.get("idempotency-key"))
        if len(keys) == 1:
            paid = route.fetch()  # the server takes the payment...
            assert paid.status == 200
            route.abort("connectionreset")  # ...and its answer never reaches the page
        else:
            route.continue_()

    buyer.page.route(re.compile(r"/orders/\d+/pay$"), lose_the_first_answer)
    buyer.page.check('input[value="tok_visa"]')
    buyer.page.click("#pay")
    check(buyer.notice()).to_contain_text("We can't reach the box office")
    check(buyer.page.locator("#order")).to_be_visible()  # nothing is given up on a lost answer
    # The seat stays the buyer's (or shows sold, when the change feed has told of the payment already).
    check(buyer.seat(seat_ids[0])).to_have_attribute("data-status", re.compile(r"^(mine|booked)$"))

    buyer.page.click("#pay")  # the buyer tries again: the same key gets the first answer
    check(buyer.page.locator("#ticket-list li")).to_have_count(2)
    check(buyer.seat(seat_ids[1])).to_have_attribute("data-status", "booked")
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    with backdoor.app.app_context():
        payments = db.session.execute(select(Payment.idempotency_key, Payment.status)).all()
    assert payments == [(keys[0], "succeeded")]  # charged once
    assert (
        buyer.page.evaluate("Object.keys(sessionStorage).filter((k) => k.startsWith('ticketing.payment-key.'))") == []
    )
    assert buyer.errors == []


def test_a_gateway_error_then_another_card_uses_the_same_key(server_factory, backdoor, contexts):
    check = expect()
    server = server_factory(WORKERS=1)
    event_id, seat_ids = new_event(backdoor, server, price_cents=2500)
    buyer = BoxOffice(contexts(), server.url).open(event_id).register("gateway@example.com")
    _check_out(buyer, seat_ids[:1])
    keys: list[str | None] = []
    buyer.page.route(
        re.compile(r"/orders/\d+/pay$"),
        lambda route, request: (keys.append(request.headers.get("idempotency-key")), route.continue_()),
    )
    buyer.page.check('input[value="tok_processingError"]')
    buyer.page.click("#pay")
    check(buyer.notice()).to_contain_text("payment service had a problem and nothing was charged")
    buyer.page.check('input[value="tok_visa"]')
    buyer.page.click("#pay")
    check(buyer.page.locator("#ticket-list li")).to_have_count(1)
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    assert buyer.errors == []
