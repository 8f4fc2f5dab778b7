"""Check-in races against a real gunicorn server (4 workers x 8 threads) with real threads: of any
number of simultaneous scans of one ticket exactly one is admitted; one nonce sent many times at once
is recorded once and answered the same every time."""

from __future__ import annotations

import secrets
from collections import Counter

import pytest
from flask_jwt_extended import create_access_token
from sqlalchemy import select

from ticketing.extensions import db
from ticketing.models import Checkin, Seat, Ticket, User

from ..race_support import at_once

pytestmark = pytest.mark.race


def _door_and_tickets(backdoor, count: int) -> tuple[dict, int, list[str]]:
    """A platform admin (who works the door of an event made by seed-seats), an event, and `count`
    tickets of it (written directly: selling them is not under test)."""
    seat_ids = backdoor.event(per_row=max(count, 1))
    with backdoor.app.app_context():
        admin = User(email=f"door-{secrets.token_hex(6)}@example.com", password_hash="-", is_admin=True)
        holder = User(email=f"holder-{secrets.token_hex(6)}@example.com", password_hash="-")
        db.session.add_all([admin, holder])
        db.session.flush()
        codes = [secrets.token_urlsafe(16) for _ in range(count)]
        db.session.add_all(
            Ticket(code=code, seat_id=seat_id, user_id=holder.id)
            for code, seat_id in zip(codes, seat_ids, strict=False)
        )
        db.session.commit()
        headers = {"Authorization": f"Bearer {create_access_token(identity=admin)}"}
        event_id = db.session.scalar(select(Seat.event_id).where(Seat.id == seat_ids[0]))
    return {"headers": headers}, event_id, codes


def _checkins(backdoor) -> list[Checkin]:
    with backdoor.app.app_context():
        return list(db.session.scalars(select(Checkin).order_by(Checkin.id)))


def test_fifty_scans_of_one_ticket_at_fifty_gates_admit_it_once(server_factory, backdoor):
    server = server_factory()
    door, event_id, (code,) = _door_and_tickets(backdoor, 1)

    responses = at_once(
        [
            (
                lambda session, gate=gate: session.post(
                    f"{server.url}/events/{event_id}/checkins",
                    json={"code": code, "nonce": f"gate-{gate}", "gate": f"Gate {gate}"},
                    headers=door["headers"],
                )
            )
            for gate in range(50)
        ]
    )

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: 49}, (statuses, server.log()[-2000:])
    winner = next(response.json() for response in responses if response.status_code == 201)
    assert winner["result"] == "admitted"
    refusals = [response.json() for response in responses if response.status_code == 409]
    assert {refusal["code"] for refusal in refusals} == {"already_checked_in"}
    expected = {"checked_in_at": winner["checkin"]["recorded_at"], "gate": winner["checkin"]["gate"]}
    assert all(refusal["details"] == expected for refusal in refusals)
    recorded = _checkins(backdoor)
    assert len(recorded) == 50  # every scan, refused ones too
    assert Counter(checkin.result for checkin in recorded) == {"admitted": 1, "already_checked_in": 49}
    assert recorded[0].result == "admitted" and recorded[0].gate == winner["checkin"]["gate"]


def test_one_nonce_sent_twenty_times_at_once_is_recorded_once_and_answered_alike(server_factory, backdoor):
    server = server_factory()
    door, event_id, (code, unknown_neighbour) = _door_and_tickets(backdoor, 2)

    def send(body):
        return lambda session: session.post(
            f"{server.url}/events/{event_id}/checkins", json=body, headers=door["headers"]
        )

    responses = at_once([send({"code": code, "nonce": "retry-me", "gate": "North"}) for _ in range(20)])
    assert {response.status_code for response in responses} == {201}, server.log()[-2000:]
    assert len({response.content for response in responses}) == 1  # 20 identical answers
    assert responses[0].json()["result"] == "admitted"

    # A code that is no ticket has no row to lock: the unique (event, code, nonce) alone keeps it once.
    missing = at_once([send({"code": "NO-SUCH-TICKET", "nonce": "retry-me"}) for _ in range(20)])
    assert {response.status_code for response in missing} == {404}, server.log()[-2000:]
    assert len({response.content for response in missing}) == 1

    recorded = _checkins(backdoor)
    assert [(checkin.code, checkin.result) for checkin in recorded] == [
        (code, "admitted"),
        ("NO-SUCH-TICKET", "ticket_not_found"),
    ]
    assert unknown_neighbour not in {checkin.code for checkin in recorded}


def test_scans_of_different_tickets_at_once_are_all_admitted(server_factory, backdoor):
    server = server_factory()
    door, event_id, codes = _door_and_tickets(backdoor, 40)

    responses = at_once(
        [
            (
                lambda session, code=code: session.post(
                    f"{server.url}/events/{event_id}/checkins",
                    json={"code": code, "nonce": "n", "gate": "Main"},
                    headers=door["headers"],
                )
            )
            for code in codes
        ]
    )

    assert Counter(response.status_code for response in responses) == {201: 40}, server.log()[-2000:]
    assert {response.json()["ticket"]["code"] for response in responses} == set(codes)
