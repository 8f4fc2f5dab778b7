"""The door page (/door) in Chromium: typed codes admitted and refused with their reasons, and offline
scanning (the network cut in the middle: decided from the downloaded list, queued, uploaded as forced
once the network is back). The buyer's printable ticket with its QR code on the box-office page."""

from __future__ import annotations

import pytest
import requests

from ..organizers import SMALL_LAYOUT, future
from .box_office import PASSWORD, BoxOffice, expect, shot

pytestmark = pytest.mark.browser


class Client:
    """The API as a person's account uses it (set-up through the server under test)."""

    def __init__(self, url: str, email: str):
        self.url = url
        self.email = email
        requests.post(f"{url}/auth/register", json={"email": email, "password": PASSWORD}).raise_for_status()
        token = requests.post(f"{url}/auth/login", json={"email": email, "password": PASSWORD}).json()
        self.headers = {"Authorization": f"Bearer {token['access_token']}"}

    def call(self, method: str, path: str, body=None, status: int = 200) -> dict:
        response = requests.request(method, f"{self.url}{path}", json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()


@pytest.fixture
def show(server_factory):
    """A server, an event on sale (the small layout) with three tickets A1-A3 bought by a buyer, and a
    member with the door role."""
    server = server_factory(WORKERS=2)
    owner = Client(server.url, "owner@example.com")
    door = Client(server.url, "door@example.com")
    buyer = Client(server.url, "buyer@example.com")
    organization = owner.call("POST", "/organizations", {"name": "Théâtre"}, 201)["organization"]["id"]
    owner.call("POST", f"/organizations/{organization}/members", {"email": door.email, "role": "door"}, 201)
    venue = owner.call("POST", f"/organizations/{organization}/venues", {"name": "Hall", "layout": SMALL_LAYOUT}, 201)
    event = owner.call(
        "POST",
        f"/organizations/{organization}/events",
        {
            "name": "Première",
            "venue_id": venue["venue"]["id"],
            "starts_at": future(),
            "categories": [{"name": "Stalls", "price": "25.00"}],
        },
        201,
    )["event"]
    owner.call("POST", f"/events/{event['id']}/publish")
    seats = {seat["label"]: seat["id"] for seat in owner.call("GET", f"/events/{event['id']}/seats")["seats"]}
    order = buyer.call("POST", "/orders", {"seat_ids": [seats[label] for label in ("A1", "A2", "A3")]}, 201)["order"]
    buyer.call("POST", f"/orders/{order['id']}/pay", {"payment_token": "tok_visa"})
    codes = {t["seat"]["label"]: t["code"] for t in buyer.call("GET", "/tickets")["tickets"]}
    return {"server": server, "event": event, "codes": codes, "door": door, "buyer": buyer}


def _door_page(contexts, show, **options):
    page = BoxOffice(contexts(**options), show["server"].url).page
    page.goto(f"{show['server'].url}/door")
    page.fill("#door-email", show["door"].email)
    page.fill("#door-password", PASSWORD)
    page.click("#door-sign-in")
    expect()(page.locator("#count-tickets")).to_have_text("3")
    return page


def _scan(page, code: str, *, gate: str | None = None, exit: bool = False) -> None:
    if gate is not None:
        page.fill("#door-gate", gate)
        page.dispatch_event("#door-gate", "change")
    page.check('input[name="direction"][value="exit"]' if exit else 'input[name="direction"][value="entry"]')
    page.fill("#scan-code", code)
    page.press("#scan-code", "Enter")


def test_typed_codes_are_admitted_once_and_refused_with_the_reason(show, contexts):
    check = expect()
    page = _door_page(contexts, show)
    answer, title, detail = page.locator("#answer"), page.locator("#answer-title"), page.locator("#answer-detail")

    _scan(page, show["codes"]["A1"], gate="North")
    check(title).to_have_text("Admitted")
    check(answer).to_have_class("answer ok")
    check(detail).to_contain_text("Seat A1")
    check(page.locator("#count-admitted")).to_have_text("1")
    check(page.locator("#count-inside")).to_have_text("1")
    shot(page, "door-admitted")

    _scan(page, show["codes"]["A1"], gate="South")
    check(title).to_have_text("Already checked in")
    check(answer).to_have_class("answer no")
    check(detail).to_contain_text("gate North")
    shot(page, "door-already-checked-in")

    _scan(page, "NOT-A-TICKET")
    check(title).to_have_text("Not a ticket for this event")

    _scan(page, show["codes"]["A1"], exit=True)
    check(title).to_have_text("Exited")
    check(page.locator("#count-inside")).to_have_text("0")
    check(page.locator("#count-admitted")).to_have_text("1")
    check(page.locator("#recent li")).to_have_count(4)

    checkins = show["door"].call("GET", f"/events/{show['event']['id']}/checkins")["checkins"]
    assert [(c["result"], c["forced"]) for c in checkins] == [
        ("admitted", False),
        ("already_checked_in", False),
        ("ticket_not_found", False),
        ("exited", False),
    ]


def test_offline_scans_are_decided_from_the_list_and_uploaded_as_forced(show, contexts):
    check = expect()
    context = contexts()
    page = BoxOffice(context, show["server"].url).page
    page.goto(f"{show['server'].url}/door")
    page.fill("#door-email", show["door"].email)
    page.fill("#door-password", PASSWORD)
    page.click("#door-sign-in")
    check(page.locator("#count-tickets")).to_have_text("3")
    title = page.locator("#answer-title")

    _scan(page, show["codes"]["A1"], gate="Main")  # online
    check(title).to_have_text("Admitted")

    context.set_offline(True)
    check(page.locator("#connection")).to_contain_text("Offline")
    _scan(page, show["codes"]["A2"])
    check(title).to_have_text("Admitted")
    check(page.locator("#answer-detail")).to_contain_text("decided offline")
    _scan(page, show["codes"]["A1"])  # the list knows A1 came in online
    check(title).to_have_text("Already checked in")
    check(page.locator("#answer-detail")).to_contain_text("gate Main")
    _scan(page, show["codes"]["A2"])  # ...and A2 offline
    check(title).to_have_text("Already checked in")
    _scan(page, "NOT-A-TICKET")
    check(title).to_have_text("Not a ticket for this event")
    check(page.locator("#connection")).to_contain_text("4 scans waiting to upload")
    check(page.locator("#count-inside")).to_have_text("2")
    shot(page, "door-offline")

    context.set_offline(False)
    check(page.locator("#connection")).not_to_contain_text("waiting", timeout=15_000)
    checkins = show["door"].call("GET", f"/events/{show['event']['id']}/checkins")["checkins"]
    assert [(c["code"], c["result"], c["forced"]) for c in checkins] == [
        (show["codes"]["A1"], "admitted", False),
        (show["codes"]["A2"], "admitted", True),
        (show["codes"]["A1"], "already_checked_in", True),
        (show["codes"]["A2"], "already_checked_in", True),
        ("NOT-A-TICKET", "ticket_not_found", True),
    ]
    a2 = show["buyer"].call("GET", f"/tickets/{show['codes']['A2']}")["ticket"]
    assert a2["checked_in"] is True and a2["checked_in_at"] == checkins[1]["scanned_at"]  # when the door scanned


def test_the_door_page_on_a_phone(show, contexts):
    check = expect()
    page = _door_page(contexts, show, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    _scan(page, show["codes"]["A3"], gate="Side")
    check(page.locator("#answer-title")).to_have_text("Admitted")
    box = page.locator("#answer").bounding_box()
    assert box and box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways
    shot(page, "door-phone-admitted")
    _scan(page, show["codes"]["A3"])
    check(page.locator("#answer-title")).to_have_text("Already checked in")
    shot(page, "door-phone-refused")


def test_the_buyer_shows_a_printable_ticket_with_its_qr_code(show, contexts):
    check = expect()
    for name, options in (("desktop", {}), ("phone", {"viewport": {"width": 390, "height": 844}, "is_mobile": True})):
        office = BoxOffice(contexts(**options), show["server"].url).open(show["event"]["id"])
        office.sign_in(show["buyer"].email)
        item = office.page.locator(f'#ticket-list li[data-code="{show["codes"]["A2"]}"]')
        item.locator(".show-ticket").click()
        dialog = office.page.locator("#ticket-view")
        check(dialog).to_be_visible()
        check(dialog.locator("#ticket-view-title")).to_have_text(show["event"]["name"])
        check(dialog.locator(".ticket-facts")).to_contain_text("A2")
        check(dialog.locator(".ticket-facts")).to_contain_text(show["codes"]["A2"])
        image = dialog.locator("#ticket-qr")
        # Not page.wait_for_function: when its first look is false it polls with eval, which the
        # page's Content-Security-Policy forbids (as it should). Wait for the image to be done, then
        # check it decoded.
        check(image).to_have_js_property("complete", True)
        assert image.evaluate("image => image.naturalWidth") > 0
        assert image.get_attribute("src").startswith("data:image/svg+xml;base64,")
        shot(office.page, f"ticket-view-{name}")
        office.page.emulate_media(media="print")
        shot(office.page, f"ticket-print-{name}")
        assert office.errors == []
