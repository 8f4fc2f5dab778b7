"""What the organizer's tests share: the example layouts, and a helper that makes organizations, venues and
events through the API (the `organizers` fixture of tests/conftest.py)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

from ticketing.extensions import db
from ticketing.models import utcnow
from ticketing.services import auth as auth_service

LAYOUTS = Path(__file__).resolve().parent.parent / "docs" / "layouts"
THEATRE_PRICES = [
    {"name": "Premium", "price": "45.00"},
    {"name": "Standard", "price": "30.00"},
    {"name": "Balcony", "price": "20.00"},
]
# Two rows of three: A (Stalls, priced) and B (no category: the event's default price).
SMALL_LAYOUT = {
    "sections": [
        {
            "name": "",
            "rows": [
                {"name": "A", "seats": [{"number": n, "category": "Stalls"} for n in (1, 2, 3)]},
                {"name": "B", "seats": 3},
            ],
        }
    ]
}


def layout(name: str) -> dict:
    """One of the example layouts of docs/layouts/ ("theatre" or "arena")."""
    return json.loads((LAYOUTS / f"{name}.json").read_text())


def future(days: float = 30) -> str:
    """An ISO time `days` from now (UTC)."""
    return (utcnow() + timedelta(days=days)).isoformat(timespec="seconds") + "Z"


class Organizers:
    """Organizations, venues and events made the way an organizer makes them: through the API."""

    def __init__(self, api) -> None:
        self.api, self.client = api, api.client

    def admin(self) -> dict:
        """A platform admin (create-user --admin), logged in."""
        email = f"admin-{uuid.uuid4().hex[:12]}@example.com"
        with self.api.app.app_context():
            user = auth_service.register_user(email=email, password="correct horse battery", name=None, is_admin=True)
            db.session.remove()
        tokens = self.api.login(email)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        return {"id": user.id, "email": email, "tokens": tokens, "headers": headers}

    def organization(self, owner: dict, name: str = "Théâtre") -> int:
        response = self.client.post("/organizations", json={"name": name}, headers=owner["headers"])
        assert response.status_code == 201, response.get_json()
        return response.get_json()["organization"]["id"]

    def add_member(self, owner: dict, organization_id: int, member: dict, role: str) -> None:
        response = self.client.post(
            f"/organizations/{organization_id}/members",
            json={"email": member["email"], "role": role},
            headers=owner["headers"],
        )
        assert response.status_code == 201, response.get_json()

    def venue(self, manager: dict, organization_id: int, venue_layout: dict | None = None, name: str = "Hall") -> dict:
        # Compact JSON, as a browser's JSON.stringify sends it (the arena fits the default body limit so).
        body = json.dumps({"name": name, "layout": venue_layout or SMALL_LAYOUT}, separators=(",", ":"))
        response = self.client.post(
            f"/organizations/{organization_id}/venues",
            data=body,
            content_type="application/json",
            headers=manager["headers"],
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()["venue"]

    def event(self, manager: dict, organization_id: int, venue_id: int, **fields) -> dict:
        """A draft event (the small layout's category priced unless `categories` is given)."""
        body = {
            "name": "Première",
            "venue_id": venue_id,
            "starts_at": future(),
            "categories": [{"name": "Stalls", "price": "25.00"}],
            **fields,
        }
        response = self.client.post(f"/organizations/{organization_id}/events", json=body, headers=manager["headers"])
        assert response.status_code == 201, response.get_json()
        return response.get_json()["event"]

    def publish(self, manager: dict, event_id: int) -> dict:
        response = self.client.post(f"/events/{event_id}/publish", headers=manager["headers"])
        assert response.status_code == 200, response.get_json()
        return response.get_json()["event"]

    def seats(self, event_id: int, who: dict) -> list[dict]:
        """The event's seat map as `who` sees it."""
        response = self.client.get(f"/events/{event_id}/seats", headers=who["headers"])
        assert response.status_code == 200, response.get_json()
        return response.get_json()["seats"]

    def on_sale(self, manager: dict | None = None, **fields) -> dict:
        """A new organization (with `manager` as owner) and a published event of the small layout:
        `{"manager", "organization_id", "venue", "event", "seats"}` (seats by label)."""
        manager = manager or self.api.user()
        organization_id = self.organization(manager)
        venue = self.venue(manager, organization_id)
        event = self.event(manager, organization_id, venue["id"], **fields)
        self.publish(manager, event["id"])
        seats = {seat["label"]: seat["id"] for seat in self.seats(event["id"], manager)}
        return {"manager": manager, "organization_id": organization_id, "venue": venue, "event": event, "seats": seats}
