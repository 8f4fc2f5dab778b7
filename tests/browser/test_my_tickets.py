""" "Your tickets" on the page: every ticket of the signed-in user, still there after a reload."""

from __future__ import annotations

import pytest
import requests

from .box_office import TICKET_CODE, BoxOffice, expect, new_event, shot

pytestmark = pytest.mark.browser


def _buy(office: BoxOffice, seat_ids: list[int]) -> None:
    for seat_id in seat_ids:
        office.seat(seat_id).click()
        expect()(office.seat(seat_id)).to_have_attribute("data-status", "mine")
    office.page.click("#checkout")
    office.page.check('input[value="tok_visa"]')
    office.page.click("#pay")
    expect()(office.page.locator("#order")).to_be_hidden()


def test_my_tickets_of_every_event_are_listed_again_after_a_reload(server_factory, backdoor, contexts):
    check = expect()
    server = server_factory(WORKERS=2)
    concert, concert_seats = new_event(backdoor, server, rows="A", per_row=6, price_cents=3000)
    play, play_seats = new_event(backdoor, server, rows="A-B", per_row=4, price_cents=1500)
    buyer = BoxOffice(contexts(), server.url).open(concert).register("fan@example.com")
    check(buyer.page.locator("#tickets")).to_be_hidden()  # no tickets yet: no empty list either

    _buy(buyer, concert_seats[1:3])  # A2, A3
    buyer.page.goto(f"{server.url}/?event={play}")
    buyer.page.locator(".seat").first.wait_for()
    _buy(buyer, [play_seats[5]])  # B2

    buyer.page.reload()
    items = buyer.page.locator("#ticket-list li")
    check(items).to_have_count(3)
    api_tickets = requests.get(f"{server.url}/tickets", headers={"Authorization": f"Bearer {buyer.token()}"}).json()
    for item, ticket in zip(items.all(), api_tickets["tickets"], strict=True):
        assert item.get_attribute("data-code") == ticket["code"] and TICKET_CODE.match(ticket["code"])
        check(item.locator(".ticket-event")).to_have_text(ticket["event"]["name"])
        check(item.locator(".ticket-seat")).to_contain_text(
            f"Seat {ticket['seat']['label']} · order {ticket['order_id']}"
        )
        check(item.locator("code")).to_have_text(ticket["code"])
    labels = [(t["event"]["id"], t["seat"]["label"]) for t in api_tickets["tickets"]]
    assert labels == [(play, "B2"), (concert, "A2"), (concert, "A3")]  # newest purchase first
    shot(buyer.page, "my-tickets")

    buyer.page.click("#sign-out")
    check(buyer.page.locator("#tickets")).to_be_hidden()
    check(buyer.page.locator("#ticket-list li")).to_have_count(0)
    buyer.sign_in("fan@example.com")
    check(buyer.page.locator("#ticket-list li")).to_have_count(3)

    stranger = BoxOffice(contexts(), server.url).open(concert).register("stranger@example.com")
    check(stranger.page.locator("#tickets")).to_be_hidden()
    assert buyer.errors == [] and stranger.errors == []
