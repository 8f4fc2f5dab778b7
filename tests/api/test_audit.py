"""The audit log (issue 14): every organizer action and every refund, who, when and what, oldest first,
in keyset pages; written in the action's own transaction, and only ever appended to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.refunding import RecordingGateway, buy, refund
from ticketing.extensions import db
from ticketing.models import AuditEntry


@pytest.fixture
def settings():
    return {"PAYMENT_GATEWAY": RecordingGateway()}


def _entries(client, event_id, who, **query):
    answer = client.get(f"/events/{event_id}/audit", query_string=query, headers=who["headers"])
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_every_organizer_action_on_an_event_is_in_its_log(client, organizers, api):
    manager, buyer = api.user(), api.user()
    made = organizers.on_sale(manager)
    event_id, seats = made["event"]["id"], made["seats"]
    headers = manager["headers"]
    assert client.patch(f"/events/{event_id}", json={"name": "Hamlet"}, headers=headers).status_code == 200
    assert (
        client.post(
            f"/events/{event_id}/seats/block", json={"seat_ids": [seats["B3"]], "reason": "Camera"}, headers=headers
        ).status_code
        == 200
    )
    assert (
        client.post(f"/events/{event_id}/seats/unblock", json={"seat_ids": [seats["B3"]]}, headers=headers).status_code
        == 200
    )
    order = buy(client, buyer, [seats["A1"]])
    assert refund(client, manager, order["id"], reason="Asked by phone").status_code == 200
    assert client.post(f"/events/{event_id}/close", headers=headers).status_code == 200
    assert client.post(f"/events/{event_id}/cancel", headers=headers).status_code == 200

    log = _entries(client, event_id, manager)
    assert [entry["action"] for entry in log["entries"]] == [
        "event.create",
        "event.publish",
        "event.update",
        "seats.block",
        "seats.unblock",
        "order.refund",
        "event.close",
        "event.cancel",
    ]
    assert log["next_after"] is None
    assert {entry["user_id"] for entry in log["entries"]} == {manager["id"]}
    by_action = {entry["action"]: entry for entry in log["entries"]}
    assert by_action["event.update"]["details"] == {"changes": {"name": "Hamlet"}}
    assert by_action["seats.block"]["details"] == {"seat_ids": [seats["B3"]], "reason": "Camera"}
    assert by_action["order.refund"]["details"]["order_id"] == order["id"]
    assert by_action["order.refund"]["details"]["amount_cents"] == 2500
    assert by_action["order.refund"]["details"]["reason"] == "Asked by phone"
    assert by_action["event.cancel"]["details"] == {"previous_status": "closed"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", entry["at"]) for entry in log["entries"])
    ids = [entry["id"] for entry in log["entries"]]
    assert ids == sorted(ids)

    page = _entries(client, event_id, manager, limit=3)
    assert [e["id"] for e in page["entries"]] == ids[:3] and page["next_after"] == ids[2]
    rest = _entries(client, event_id, manager, limit=10, after=page["next_after"])
    assert [e["id"] for e in rest["entries"]] == ids[3:]


def test_a_refused_action_writes_nothing(client, organizers, api):
    manager = api.user()
    made = organizers.on_sale(manager)
    event_id = made["event"]["id"]
    before = _entries(client, event_id, manager)["entries"]
    bad = client.patch(
        f"/events/{event_id}",
        json={"sales_start": "2000-01-01T00:00:00Z", "sales_end": "1999-01-01T00:00:00Z"},
        headers=manager["headers"],
    )
    assert bad.status_code == 400
    door = api.user()
    organizers.add_member(manager, made["organization_id"], door, "door")
    assert client.post(f"/events/{event_id}/close", headers=door["headers"]).status_code == 403
    assert _entries(client, event_id, manager)["entries"] == before


def test_organization_actions_are_logged_too(app, client, organizers, api):
    owner, member = api.user(), api.user()
    organization_id = organizers.organization(owner)
    organizers.add_member(owner, organization_id, member, "manager")
    organizers.add_member(owner, organization_id, member, "door")
    venue = organizers.venue(owner, organization_id)
    assert (
        client.delete(f"/organizations/{organization_id}/members/{member['id']}", headers=owner["headers"]).status_code
        == 200
    )
    with app.app_context():
        rows = db.session.execute(
            select(AuditEntry.action, AuditEntry.user_id, AuditEntry.details)
            .where(AuditEntry.organization_id == organization_id)
            .order_by(AuditEntry.id)
        ).all()
    assert [row.action for row in rows] == [
        "organization.create",
        "member.set",
        "member.set",
        "venue.create",
        "member.remove",
    ]
    assert {row.user_id for row in rows} == {owner["id"]}
    assert rows[1].details["role"] == "manager" and rows[2].details["role"] == "door"
    assert rows[3].details["venue_id"] == venue["id"]

    url = f"/organizations/{organization_id}/audit"
    listed = client.get(url, headers=owner["headers"]).get_json()
    assert [entry["action"] for entry in listed["entries"]] == [row.action for row in rows]
    assert listed["next_after"] is None
    page = client.get(f"{url}?limit=2", headers=owner["headers"]).get_json()
    assert len(page["entries"]) == 2 and page["next_after"] == listed["entries"][1]["id"]
    door, outsider = api.user(), api.user()
    organizers.add_member(owner, organization_id, door, "door")
    assert client.get(url, headers=door["headers"]).status_code == 403
    hidden = client.get(url, headers=outsider["headers"])
    assert hidden.status_code == 404 and hidden.get_json()["code"] == "organization_not_found"
    assert client.get(url).status_code == 401


def test_the_log_is_for_managers(client, organizers, api):
    manager, door, outsider = api.user(), api.user(), api.user()
    made = organizers.on_sale(manager)
    organizers.add_member(manager, made["organization_id"], door, "door")
    url = f"/events/{made['event']['id']}/audit"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=door["headers"]).status_code == 403
    assert client.get(url, headers=outsider["headers"]).status_code == 403
    assert client.get(f"{url}?limit=0", headers=manager["headers"]).status_code == 400


def test_nothing_but_audit_record_writes_the_log():
    """Append-only: no code updates or deletes an entry, and only services/audit.py inserts one."""
    package = Path(__file__).resolve().parents[2] / "ticketing"
    for path in package.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"(update|delete)\(\s*(AuditEntry|_AUDIT)", text), path
        if path.name != "audit.py":
            assert "insert(_AUDIT" not in text and "AuditEntry(" not in text, path
