"""The back office's Sales section (ticketing/static/js/office/sales.js) in headless Chromium against real gunicorn:
a buyer buys two seats through the API, the organizer reads the report, refunds one ticket from the orders list,
sees the report and the seat change, downloads the attendee CSV and finds the refund in the audit log.
Screenshots (desktop and phone) to artifacts/browser/.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import requests

from ..organizers import SMALL_LAYOUT, future
from .box_office import ARTIFACTS
from .box_office import expect as _expect
from .box_office import shot as _shot
from .test_office import DESKTOP, PHONE, Account, Office

pytestmark = pytest.mark.browser

HEADER = "ticket_code,seat,section,row,number,category,price,order_id,buyer_email,status,checked_in_at"


def _on_sale_event(url: str, owner: Account) -> tuple[int, dict[str, int]]:
    """An organization, a venue of two rows of three (A: Stalls at 25.00, B: the default 10.00), an event on sale."""
    organization = requests.post(f"{url}/organizations", json={"name": "Théâtre"}, headers=owner.headers, timeout=10)
    organization_id = organization.json()["organization"]["id"]
    venue = requests.post(
        f"{url}/organizations/{organization_id}/venues",
        json={"name": "Hall", "layout": SMALL_LAYOUT},
        headers=owner.headers,
        timeout=10,
    )
    assert venue.status_code == 201, venue.text
    event = requests.post(
        f"{url}/organizations/{organization_id}/events",
        json={
            "name": "Hamlet",
            "venue_id": venue.json()["venue"]["id"],
            "starts_at": future(),
            "categories": [{"name": "Stalls", "price": "25.00"}],
            "default_price": "10.00",
        },
        headers=owner.headers,
        timeout=10,
    )
    assert event.status_code == 201, event.text
    event_id = event.json()["event"]["id"]
    assert requests.post(f"{url}/events/{event_id}/publish", headers=owner.headers, timeout=10).status_code == 200
    seats = requests.get(f"{url}/events/{event_id}/seats", timeout=10).json()["seats"]
    return event_id, {seat["label"]: seat["id"] for seat in seats}


def _buy(url: str, buyer: Account, seat_ids: list[int], token: str = "tok_visa") -> dict:
    order = requests.post(f"{url}/orders", json={"seat_ids": seat_ids}, headers=buyer.headers, timeout=10)
    assert order.status_code == 201, order.text
    order_id = order.json()["order"]["id"]
    paid = requests.post(
        f"{url}/orders/{order_id}/pay",
        json={"payment_token": token},
        headers={**buyer.headers, "Idempotency-Key": f"pay-{order_id}"},
        timeout=10,
    )
    assert paid.status_code == 200, paid.text
    return paid.json()["order"]


def test_an_organizer_reads_the_report_refunds_a_ticket_downloads_the_csv_and_finds_it_in_the_audit_log(
    server_factory, contexts
):
    expect = _expect()
    server = server_factory(WORKERS=2, CHANGES_POLL_MS=200)
    owner = Account(server.url, "owner@example.com")
    event_id, seats = _on_sale_event(server.url, owner)
    buyer = Account(server.url, "buyer@example.com")
    order = _buy(server.url, buyer, [seats["A1"], seats["A2"]])
    codes = {ticket["label"]: ticket["code"] for ticket in order["tickets"]}

    office = Office(contexts(**DESKTOP), server.url).sign_in(owner.email)
    office.page.locator("#event-list button", has_text="Hamlet").click()
    sales = office.page.locator("#sales")
    expect(sales).to_be_visible()

    # The report: the sale of two Stalls seats at 25.00.
    figure = lambda key: sales.locator(f'[data-figure="{key}"]')  # noqa: E731
    expect(figure("gross")).to_have_text("$50.00")
    expect(figure("refunded")).to_have_text("$0.00")
    expect(figure("net")).to_have_text("$50.00")
    expect(figure("booked")).to_have_text("2")
    expect(figure("available")).to_have_text("4")
    expect(figure("valid")).to_have_text("2")
    expect(figure("void")).to_have_text("0")
    stalls = sales.locator('#category-list tr[data-category="Stalls"]')
    expect(stalls).to_have_text("Stalls$25.002$50.00")

    # The orders list: the buyer's order, paid; refund A1 only (ticked), after confirming.
    item = sales.locator(f'#order-list li.order[data-order="{order["id"]}"]')
    expect(item).to_contain_text("buyer@example.com")
    expect(item).to_contain_text("Paid")
    expect(item).to_contain_text("$50.00")
    button = item.locator("button.refund")
    expect(button).to_have_text("Refund order")
    item.locator(f'input[value="{codes["A1"]}"]').check()
    expect(button).to_have_text("Refund 1 ticket")
    _shot(office.page, "office-sales-desktop")
    dialogs: list[str] = []
    office.page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    with office.page.expect_response(lambda r: r.url.endswith(f"/orders/{order['id']}/refund")) as answer:
        button.click()
    assert answer.value.status == 200
    assert answer.value.request.headers.get("idempotency-key")
    assert "Refund the ticket of order" in dialogs[0] and "(A1)" in dialogs[0]
    expect(office.notice()).to_have_text("Refunded $25.00 to buyer@example.com: A1.")

    # The order, the report and the live map change.
    item = sales.locator(f'#order-list li.order[data-order="{order["id"]}"]')
    expect(item).to_have_attribute("data-status", "partially_refunded")
    expect(item).to_contain_text("Partly refunded")
    expect(item).to_contain_text("refunded $25.00")
    expect(item.locator(f'li[data-code="{codes["A1"]}"]')).to_have_attribute("data-status", "void")
    expect(item.locator(f'input[value="{codes["A1"]}"]')).to_be_disabled()
    expect(figure("refunded")).to_have_text("$25.00")
    expect(figure("net")).to_have_text("$25.00")
    expect(figure("booked")).to_have_text("1")
    expect(figure("available")).to_have_text("5")
    expect(figure("void")).to_have_text("1")
    expect(stalls).to_have_text("Stalls$25.001$25.00")
    expect(office.page.locator('#counts [data-status="booked"] .figure')).to_have_text("1")
    seat = requests.get(f"{server.url}/seats/{seats['A1']}", timeout=10).json()["seat"]
    assert seat["status"] == "available"

    # The attendee list: fetched with the token, saved from a Blob link.
    with office.page.expect_download() as download:
        office.page.click("#download-csv")
    assert download.value.suggested_filename == f"attendees-event-{event_id}.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0] == HEADER
    rows = {row["ticket_code"]: row for row in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {codes["A1"], codes["A2"]}
    assert rows[codes["A1"]]["status"] == "void" and rows[codes["A2"]]["status"] == "valid"
    assert rows[codes["A2"]]["buyer_email"] == "buyer@example.com"

    # The audit log: the event's creation, its publication and the refund, oldest first.
    audit = sales.locator("#audit-list li")
    expect(audit.last).to_have_attribute("data-action", "order.refund")
    expect(audit.last).to_contain_text(f"Refund by you: order {order['id']}, $25.00 ({codes['A1']})")
    expect(sales.locator('#audit-list li[data-action="event.publish"]')).to_have_count(1)
    expect(sales.locator("#audit-more")).to_be_hidden()
    expect(sales.locator("#orders-more")).to_be_hidden()
    _shot(office.page, "office-sales-refunded-desktop")

    # The same on a phone.
    phone = Office(contexts(**PHONE), server.url).sign_in(owner.email)
    phone.page.locator("#event-list button", has_text="Hamlet").click()
    expect(phone.page.locator('#sales [data-figure="refunded"]')).to_have_text("$25.00")
    expect(phone.page.locator("#audit-list li").last).to_have_attribute("data-action", "order.refund")
    phone.page.locator("#sales").scroll_into_view_if_needed()
    _shot(phone.page, "office-sales-phone")
    phone.page.locator("#sales").screenshot(path=str(ARTIFACTS / "office-sales-section-phone.png"))
    assert office.errors == [] and phone.errors == []


def test_pages_of_orders_and_audit_a_refused_refund_in_words_and_door_staff_see_no_sales(server_factory, contexts):
    expect = _expect()
    server = server_factory(WORKERS=1)
    owner = Account(server.url, "owner@example.com")
    event_id, seats = _on_sale_event(server.url, owner)
    buyer = Account(server.url, "buyer@example.com")
    order = _buy(server.url, buyer, [seats["B1"]])
    stuck = _buy(server.url, buyer, [seats["A3"]], token="tok_refundFails")  # the gateway refuses its refunds
    # 20 more orders (made and cancelled) and 20 more audit entries (a seat blocked and unblocked 10 times):
    # past one page (20) of each.
    for _ in range(20):
        made = requests.post(
            f"{server.url}/orders", json={"seat_ids": [seats["B2"]]}, headers=buyer.headers, timeout=10
        )
        assert made.status_code == 201, made.text
        cancel = f"{server.url}/orders/{made.json()['order']['id']}/cancel"
        assert requests.post(cancel, headers=buyer.headers, timeout=10).status_code == 200
    for _ in range(10):
        for action in ("block", "unblock"):
            changed = requests.post(
                f"{server.url}/events/{event_id}/seats/{action}",
                json={"seat_ids": [seats["B3"]]},
                headers=owner.headers,
                timeout=10,
            )
            assert changed.status_code == 200, changed.text

    office = Office(contexts(**DESKTOP), server.url).sign_in(owner.email)
    office.page.locator("#event-list button", has_text="Hamlet").click()
    orders = office.page.locator("#order-list li.order")
    expect(orders).to_have_count(20)
    expect(office.page.locator('#order-list li.order[data-status="cancelled"]').first).to_contain_text("Cancelled")
    expect(orders.first.locator("button.refund")).to_have_count(1)  # the paid one, first (oldest)
    expect(office.page.locator('#order-list li.order[data-status="cancelled"] button')).to_have_count(0)
    office.page.click("#orders-more")
    expect(orders).to_have_count(22)
    expect(office.page.locator("#orders-more")).to_be_hidden()
    entries = office.page.locator("#audit-list li")
    expect(entries).to_have_count(20)
    office.page.click("#audit-more")
    expect(entries).to_have_count(22)  # event.create, event.publish and the 20 seat changes
    expect(office.page.locator("#audit-more")).to_be_hidden()
    expect(entries.last).to_have_text(re.compile(r"Seats unblocked by you: 1 seat$"))
    item = office.page.locator(f'#order-list li.order[data-order="{order["id"]}"]')
    expect(item).to_contain_text("$10.00")
    # The gateway refuses: nothing changed, said in words; trying again is the same attempt (the same key).
    failing = office.page.locator(f'#order-list li.order[data-order="{stuck["id"]}"]')
    keys = []
    for _ in range(2):
        office.page.once("dialog", lambda dialog: dialog.accept())
        with office.page.expect_response(lambda r: r.url.endswith(f"/orders/{stuck['id']}/refund")) as answer:
            failing.locator("button.refund").click()
        assert answer.value.status == 502
        keys.append(answer.value.request.headers["idempotency-key"])
        expect(office.notice()).to_contain_text("The payment service did not refund this, and nothing changed")
        expect(failing.locator("button.refund")).to_be_enabled()
    assert keys[0] == keys[1]
    expect(failing).to_have_attribute("data-status", "paid")
    # Meanwhile the order is refunded elsewhere (the buyer's own page, another organizer).
    done = requests.post(f"{server.url}/orders/{order['id']}/refund", json={}, headers=owner.headers, timeout=10)
    assert done.status_code == 200
    office.page.once("dialog", lambda dialog: dialog.dismiss())
    item.locator("button.refund").click()  # dismissed: nothing sent
    office.page.once("dialog", lambda dialog: dialog.accept())
    item.locator("button.refund").click()
    expect(office.notice()).to_have_text("This order can no longer be refunded here.")

    # A door member: the event panel, and so its sales, is not there.
    organization_id = requests.get(f"{server.url}/auth/me", headers=owner.headers, timeout=10).json()["organizations"][
        0
    ]["id"]
    usher = Account(server.url, "door@example.com")
    added = requests.post(
        f"{server.url}/organizations/{organization_id}/members",
        json={"email": "door@example.com", "role": "door"},
        headers=owner.headers,
        timeout=10,
    )
    assert added.status_code == 201
    door = Office(contexts(**PHONE), server.url).sign_in("door@example.com")
    expect(door.page.locator("#door-note")).to_be_visible()
    expect(door.page.locator("#sales")).to_be_hidden()
    expect(door.page.locator("#download-csv")).to_be_hidden()
    assert requests.get(f"{server.url}/events/{event_id}/report", headers=usher.headers, timeout=10).status_code == 403
    assert office.errors == [] and door.errors == []
