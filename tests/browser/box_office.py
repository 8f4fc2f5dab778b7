"""What the browser tests share: one person's tab of the page, screenshots, and a fresh event."""

from __future__ import annotations

import os
import re
from pathlib import Path

import requests

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
PASSWORD = "correct horse battery"
TICKET_CODE = re.compile(r"^[A-Za-z0-9_-]{22}$")  # 128 random bits, URL-safe base64


def browser_required() -> bool:
    """In CI (or when asked) a missing Chromium fails the run instead of skipping."""
    return bool(os.environ.get("CI") or os.environ.get("REQUIRE_BROWSER"))


class BoxOffice:
    """One person's tab of the page."""

    def __init__(self, context, base_url: str):
        self.page = context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self, event_id: int) -> BoxOffice:
        self.page.goto(f"{self.base_url}/?event={event_id}")
        self.page.locator(".seat").first.wait_for()
        return self

    def register(self, email: str, password: str = PASSWORD) -> BoxOffice:
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        self.page.click("#register")
        self.page.locator("#signed-in").wait_for()
        return self

    def sign_in(self, email: str, password: str = PASSWORD) -> BoxOffice:
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        self.page.click("#sign-in")
        self.page.locator("#signed-in").wait_for()
        return self

    def seat(self, seat_id: int):
        return self.page.locator(f'.seat[data-seat-id="{seat_id}"]')

    def notice(self):
        return self.page.locator("#notice-text")

    def token(self) -> str:
        """The access token the page holds (to ask the API what it says)."""
        return self.page.evaluate("JSON.parse(sessionStorage.getItem('ticketing.tokens')).access_token")


def expect():
    """Playwright's `expect` (imported late: without Chromium the tests skip before needing it)."""
    from playwright.sync_api import expect

    return expect


def shot(page, name: str) -> Path:
    """A full-page screenshot in artifacts/browser/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def new_event(backdoor, server, *, rows="A-C", per_row=10, price_cents=0) -> tuple[int, list[int]]:
    """A new event on the server's database: its id and its seat ids in label order."""
    seat_ids = backdoor.event(rows=rows, per_row=per_row, price_cents=price_cents)
    event_id = requests.get(f"{server.url}/seats/{seat_ids[0]}").json()["seat"]["event_id"]
    return event_id, seat_ids
