"""The door: `POST /events/<id>/checkins` admits each ticket once, lets it out and in again, answers a
retried nonce with its first answer, records every scan (refused ones and forced uploads too);
`GET /events/<id>/checkins` pages through them; `GET /events/<id>/door-list` is what a door takes
offline; `GET /tickets/<code>` and its QR code for the holder and the event's staff. Every role,
a removed member and another organization's member included."""

from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta

import orjson
import pytest
import segno
from sqlalchemy import event, func, insert, select, update

from ticketing.extensions import db
from ticketing.models import VOID, Checkin, Ticket

_nonces = itertools.count(1)
ROLES = ("owner", "manager", "door", "admin", "outsider", "removed", "other_organization")
STAFF = ("owner", "manager", "door", "admin")


def _buy(client, buyer: dict, seat_ids: list[int]) -> list[str]:
    order = client.post("/orders", json={"seat_ids": seat_ids}, headers=buyer["headers"]).get_json()["order"]
    paid = client.post(f"/orders/{order['id']}/pay", json={"payment_token": "tok_visa"}, headers=buyer["headers"])
    assert paid.status_code == 200, paid.get_json()
    return [ticket["code"] for ticket in paid.get_json()["order"]["tickets"]]


@pytest.fixture
def door(api, organizers):
    """An organization (owner, manager, door, a removed door member) with two events on sale and
    three tickets of the first (A1, A2, A3) and one of the second bought by `buyer`; a member of
    another organization, a user of no organization, a platform admin."""
    people = {role: api.user() for role in ("owner", "manager", "door", "removed", "outsider", "buyer")}
    people["other_organization"] = api.user()
    people["admin"] = organizers.admin()
    owner = people["owner"]
    show = organizers.on_sale(owner)
    organization_id = show["organization_id"]
    for role in ("manager", "door", "removed"):
        organizers.add_member(owner, organization_id, people[role], "door" if role == "removed" else role)
    organizers.organization(people["other_organization"], name="Elsewhere")
    removal = api.client.delete(
        f"/organizations/{organization_id}/members/{people['removed']['id']}", headers=owner["headers"]
    )
    assert removal.status_code == 200  # the removed member keeps a valid token: roles are not in it
    second = organizers.event(owner, organization_id, show["venue"]["id"], name="Matinée")
    organizers.publish(owner, second["id"])
    second_seat = {s["label"]: s["id"] for s in organizers.seats(second["id"], owner)}["A1"]
    codes = _buy(api.client, people["buyer"], [show["seats"][label] for label in ("A1", "A2", "A3")])
    labels = {
        t["code"]: t["seat"]["label"]
        for t in api.client.get("/tickets", headers=people["buyer"]["headers"]).get_json()["tickets"]
    }
    by_label = {labels[code]: code for code in codes}
    other_code = _buy(api.client, people["buyer"], [second_seat])[0]
    return {
        "people": people,
        "event_id": show["event"]["id"],
        "second_id": second["id"],
        "codes": by_label,
        "other_code": other_code,
        "organization_id": organization_id,
        "venue_id": show["venue"]["id"],
    }


def _scan(client, door: dict, code: str, *, who: str = "door", event_id: int | None = None, **fields):
    body = {"code": code, "nonce": fields.pop("nonce", f"n-{next(_nonces)}"), **fields}
    return client.post(
        f"/events/{event_id or door['event_id']}/checkins", json=body, headers=door["people"][who]["headers"]
    )


def _checkins(client, door: dict, **query) -> list[dict]:
    response = client.get(
        f"/events/{door['event_id']}/checkins", query_string=query, headers=door["people"]["door"]["headers"]
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["checkins"]


def _void(api, code: str) -> None:
    """What a refund or a cancelled event does to a ticket (those routes make it void the same way)."""
    with api.app.app_context():
        db.session.execute(update(Ticket).where(Ticket.code == code).values(status=VOID))
        db.session.commit()


def _count(api) -> int:
    with api.app.app_context():
        return db.session.scalar(select(func.count()).select_from(Checkin))


def test_a_ticket_is_admitted_once_then_refused_with_when_and_where(client, door):
    code = door["codes"]["A1"]
    first = _scan(client, door, code, gate="North")
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["result"] == "admitted" and "A1" in body["message"]
    checkin = body["checkin"]
    assert checkin["code"] == code and checkin["type"] == "entry" and checkin["gate"] == "North"
    assert checkin["result"] == "admitted" and checkin["forced"] is False
    assert checkin["event_id"] == door["event_id"] and checkin["user_id"] == door["people"]["door"]["id"]
    ticket = body["ticket"]
    assert ticket["code"] == code and ticket["status"] == "valid" and ticket["seat"]["label"] == "A1"
    assert ticket["checked_in"] is True and ticket["checked_in_at"] == checkin["recorded_at"]
    assert ticket["event"]["id"] == door["event_id"]

    again = _scan(client, door, code, gate="South")
    assert again.status_code == 409
    assert again.get_json()["code"] == "already_checked_in"
    assert again.get_json()["details"] == {"checked_in_at": checkin["recorded_at"], "gate": "North"}
    assert "North" in again.get_json()["message"]

    held = client.get(f"/tickets/{code}", headers=door["people"]["buyer"]["headers"]).get_json()["ticket"]
    assert held == ticket  # the holder sees it checked in
    listed = _checkins(client, door)
    assert [(c["result"], c["gate"]) for c in listed] == [("admitted", "North"), ("already_checked_in", "South")]


def test_exit_lets_the_ticket_in_again(client, door):
    code = door["codes"]["A2"]
    assert _scan(client, door, code, type="exit").get_json()["code"] == "not_checked_in"
    first = _scan(client, door, code, gate="1").get_json()
    out = _scan(client, door, code, type="exit", gate="2")
    assert out.status_code == 201 and out.get_json()["result"] == "exited"
    assert out.get_json()["ticket"]["checked_in"] is True  # it has been in
    refused = _scan(client, door, code, type="exit")
    assert refused.status_code == 409 and refused.get_json()["code"] == "not_checked_in"
    back = _scan(client, door, code, gate="3")
    assert back.status_code == 201 and back.get_json()["result"] == "admitted"
    assert back.get_json()["ticket"]["checked_in_at"] == back.get_json()["checkin"]["recorded_at"]
    assert back.get_json()["ticket"]["checked_in_at"] >= first["ticket"]["checked_in_at"]
    third = _scan(client, door, code, gate="4")
    assert third.get_json()["details"]["gate"] == "3"
    assert [c["result"] for c in _checkins(client, door)] == [
        "not_checked_in",
        "admitted",
        "exited",
        "not_checked_in",
        "admitted",
        "already_checked_in",
    ]


def test_the_same_nonce_gets_the_first_answer_again_and_records_nothing(api, client, door):
    code = door["codes"]["A1"]
    first = _scan(client, door, code, nonce="scan-1", gate="North")
    assert first.status_code == 201
    before = _count(api)
    for who in ("door", "manager"):  # whoever sends it again: the door's retry
        again = _scan(client, door, code, nonce="scan-1", gate="elsewhere", type="exit", who=who)
        assert again.status_code == 201 and again.get_json() == first.get_json()
    assert _count(api) == before

    refused = _scan(client, door, code, nonce="scan-2")
    assert refused.status_code == 409
    assert _scan(client, door, code, type="exit").status_code == 201  # the ticket is outside now...
    replay = _scan(client, door, code, nonce="scan-2")
    assert replay.status_code == 409 and replay.get_json() == refused.get_json()  # ...the answer stays the first
    assert _count(api) == before + 2


def test_unknown_codes_and_other_events_tickets_are_not_found_and_recorded(api, client, door):
    for code in ("NOSUCHCODE", door["other_code"], "not a code at all", "é" * 10):
        response = _scan(client, door, code, nonce=f"x-{code}")
        assert response.status_code == 404 and response.get_json()["code"] == "ticket_not_found", code
        again = _scan(client, door, code, nonce=f"x-{code}")
        assert again.get_json() == response.get_json()
    listed = _checkins(client, door)
    assert len(listed) == 4 and {c["result"] for c in listed} == {"ticket_not_found"}
    # The ticket of the other event is still admitted at its own event.
    own = _scan(client, door, door["other_code"], event_id=door["second_id"])
    assert own.status_code == 201 and own.get_json()["result"] == "admitted"


def test_a_void_ticket_is_refused_and_recorded(api, client, door):
    code = door["codes"]["A3"]
    _void(api, code)
    response = _scan(client, door, code)
    assert response.status_code == 409 and response.get_json()["code"] == "ticket_void"
    assert _checkins(client, door)[-1]["result"] == "void"
    ticket = client.get(f"/tickets/{code}", headers=door["people"]["buyer"]["headers"]).get_json()["ticket"]
    assert ticket["status"] == "void" and ticket["checked_in"] is False


def test_a_ticket_inside_that_becomes_void_cannot_come_in_again(api, client, door):
    code = door["codes"]["A3"]
    assert _scan(client, door, code).status_code == 201
    _void(api, code)
    assert _scan(client, door, code).get_json()["code"] == "ticket_void"


def test_forced_uploads_are_recorded_as_forced_with_the_result_they_would_have_had(api, client, door):
    code, void_code = door["codes"]["A1"], door["codes"]["A2"]
    _void(api, void_code)
    scanned_at = (datetime.utcnow() - timedelta(minutes=5)).replace(microsecond=0)
    offline = _scan(client, door, code, force=True, scanned_at=scanned_at.isoformat() + "Z", gate="Side")
    assert offline.status_code == 201
    body = offline.get_json()
    assert body["result"] == "admitted" and body["checkin"]["forced"] is True
    assert body["checkin"]["scanned_at"] == scanned_at.isoformat(timespec="milliseconds") + "Z"
    assert body["ticket"]["checked_in_at"] == body["checkin"]["scanned_at"]  # admitted when the door scanned it

    twice = _scan(client, door, code, force=True, gate="Other door").get_json()
    assert twice["result"] == "already_checked_in" and twice["checkin"]["forced"] is True
    online = _scan(client, door, code)
    assert online.status_code == 409 and online.get_json()["details"]["gate"] == "Side"

    void = _scan(client, door, void_code, force=True)
    assert void.status_code == 201 and void.get_json()["result"] == "void"
    unknown = _scan(client, door, "NOSUCHCODE", force=True)
    assert unknown.status_code == 201 and unknown.get_json()["result"] == "ticket_not_found"
    assert unknown.get_json()["ticket"] is None
    assert [(c["result"], c["forced"]) for c in _checkins(client, door)] == [
        ("admitted", True),
        ("already_checked_in", True),
        ("already_checked_in", False),
        ("void", True),
        ("ticket_not_found", True),
    ]


def test_the_scans_come_in_pages_oldest_first(client, door):
    codes = list(door["codes"].values())
    for code in codes:
        _scan(client, door, code)
        _scan(client, door, code)
    pages, after = [], 0
    while True:
        response = client.get(
            f"/events/{door['event_id']}/checkins",
            query_string={"after": after, "limit": 4},
            headers=door["people"]["door"]["headers"],
        ).get_json()
        pages.append(response["checkins"])
        if response["next_after"] is None:
            break
        after = response["next_after"]
    assert [len(page) for page in pages] == [4, 2]
    ids = [c["id"] for page in pages for c in page]
    assert ids == sorted(ids) and len(set(ids)) == 6
    assert [c["result"] for page in pages for c in page] == ["admitted", "already_checked_in"] * 3
    for query in ({"limit": 0}, {"limit": 1001}, {"after": -1}, {"after": "x"}):
        bad = client.get(
            f"/events/{door['event_id']}/checkins", query_string=query, headers=door["people"]["door"]["headers"]
        )
        assert bad.status_code == 400, query


def test_the_door_list_has_every_ticket_and_where_it_stands(api, client, door):
    _void(api, door["codes"]["A3"])
    admitted = _scan(client, door, door["codes"]["A1"], gate="North").get_json()
    _scan(client, door, door["codes"]["A2"])
    _scan(client, door, door["codes"]["A2"], type="exit")
    response = client.get(f"/events/{door['event_id']}/door-list", headers=door["people"]["door"]["headers"])
    assert response.status_code == 200
    listed = response.get_json()
    assert listed["event"]["id"] == door["event_id"] and listed["event"]["name"]
    assert listed["last_checkin_id"] == _checkins(client, door)[-1]["id"]
    tickets = {t["seat"]["label"]: t for t in listed["tickets"]}
    assert set(tickets) == {"A1", "A2", "A3"}
    assert tickets["A1"] == {
        "code": door["codes"]["A1"],
        "status": "valid",
        "seat": {"label": "A1", "section": "", "row": "A", "number": 1},
        "checked_in_at": admitted["checkin"]["recorded_at"],
        "inside": True,
        "gate": "North",
    }
    assert tickets["A2"]["inside"] is False and tickets["A2"]["checked_in_at"] is not None
    assert tickets["A3"]["status"] == "void" and tickets["A3"]["checked_in_at"] is None


@pytest.mark.parametrize("role", ROLES)
def test_every_role_at_the_door(client, door, role):
    """Owner, manager, door and a platform admin work the door; a removed member, another organization's
    member and a user of no organization get 403 for an event everyone sees."""
    event_id = door["event_id"]
    headers = door["people"][role]["headers"]
    scan = _scan(client, door, door["codes"]["A1"], who=role)
    listed = client.get(f"/events/{event_id}/checkins", headers=headers)
    offline = client.get(f"/events/{event_id}/door-list", headers=headers)
    if role in STAFF:
        assert (scan.status_code, listed.status_code, offline.status_code) == (201, 200, 200)
    else:
        for response in (scan, listed, offline):
            assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
        assert _checkins(client, door) == []  # nothing recorded for someone who may not scan


@pytest.mark.parametrize("role", ROLES)
def test_a_draft_is_not_found_outside_its_organization(client, organizers, door, role):
    owner = door["people"]["owner"]
    draft = organizers.event(owner, door["organization_id"], door["venue_id"])
    scan = _scan(client, door, "NOSUCHCODE", who=role, event_id=draft["id"])
    assert scan.status_code == 404
    assert scan.get_json()["code"] == ("ticket_not_found" if role in STAFF else "event_not_found")
    missing = _scan(client, door, "NOSUCHCODE", who=role, event_id=10**9)
    assert missing.status_code == 404 and missing.get_json()["code"] == "event_not_found"


@pytest.mark.parametrize("role", [*ROLES, "buyer"])
def test_a_ticket_and_its_qr_code_for_its_holder_and_the_events_staff_only(client, door, role):
    code = door["codes"]["A1"]
    headers = door["people"][role]["headers"]
    ticket = client.get(f"/tickets/{code}", headers=headers)
    image = client.get(f"/tickets/{code}/qr.svg", headers=headers)
    if role in (*STAFF, "buyer"):
        assert ticket.status_code == 200 and ticket.get_json()["ticket"]["code"] == code
        assert image.status_code == 200 and image.mimetype == "image/svg+xml"
        expected = io.BytesIO()
        segno.make(code, error="m").save(expected, kind="svg", scale=8, border=4, xmldecl=False, title=f"Ticket {code}")
        assert image.data == expected.getvalue() and image.data.startswith(b"<svg")
    else:
        nothing = client.get("/tickets/AAAAAAAAAAAAAAAAAAAAAA/qr.svg", headers=headers)
        for response in (ticket, image, nothing):
            assert response.status_code == 404 and response.get_json()["code"] == "ticket_not_found"


def test_the_qr_code_needs_a_token(client, door):
    response = client.get(f"/tickets/{door['codes']['A1']}/qr.svg")
    assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nonce": "n"}, "code"),
        ({"code": "X"}, "nonce"),
        ({"code": "", "nonce": "n"}, "code"),
        ({"code": "X", "nonce": "n" * 65}, "nonce"),
        ({"code": "X", "nonce": "n", "type": "in"}, "type"),
        ({"code": "X", "nonce": "n", "force": "yes"}, "force"),
        ({"code": "X", "nonce": "n", "scanned_at": "yesterday"}, "scanned_at"),
        ({"code": "X", "nonce": "n", "gate": "g" * 41}, "gate"),
        ({"code": "X\u0000", "nonce": "n"}, "code"),
    ],
)
def test_a_scan_that_cannot_be_read_is_400_and_not_recorded(api, client, door, body, field):
    response = client.post(f"/events/{door['event_id']}/checkins", json=body, headers=door["people"]["door"]["headers"])
    assert response.status_code == 400 and field in response.get_json()["details"]
    assert _count(api) == 0


def test_the_door_needs_a_token(client, door):
    for method, path in (
        ("post", f"/events/{door['event_id']}/checkins"),
        ("get", f"/events/{door['event_id']}/checkins"),
        ("get", f"/events/{door['event_id']}/door-list"),
    ):
        response = getattr(client, method)(path, json={"code": "X", "nonce": "n"} if method == "post" else None)
        assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"


def _statements_of(app, send) -> list[str]:
    """The SQL statements `send()` runs (BEGIN and savepoints left out: SQLite's come through here,
    PostgreSQL's do not)."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_rest):
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            statements.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        send()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements


def test_a_scan_is_the_token_one_locking_read_and_one_insert_with_its_answer(api, client, door, database_url):
    """What the benchmark's doors wait on: a scan of a ticket is one statement (the ticket's row lock,
    with the caller's role and token, the event and the ticket's earlier scans) and the INSERT of the
    scan with its answer; then COMMIT. On SQLite the token's lookup comes first, as on every route; on
    PostgreSQL the locking read checks the token itself. A retry is answered from the read."""
    lookup = 0 if database_url.startswith("postgresql") else 1
    code = door["codes"]["A1"]
    answers = []
    first = _statements_of(api.app, lambda: answers.append(_scan(client, door, code, nonce="once")))
    second = _statements_of(api.app, lambda: answers.append(_scan(client, door, code)))
    retry = _statements_of(api.app, lambda: answers.append(_scan(client, door, code, nonce="once")))

    assert [answer.status_code for answer in answers] == [201, 409, 201]
    for statements in (first, second):
        assert len(statements) == 2 + lookup, statements
        if lookup:
            assert "FROM users" in statements[0]  # the token's user
        assert "FROM tickets" in statements[lookup] and "revoked_tokens" in statements[lookup]
        assert "JOIN memberships" in statements[lookup]
        assert statements[lookup + 1].startswith("INSERT INTO checkins")
    assert len(retry) == 1 + lookup, retry
    assert not any(statement.startswith("UPDATE") for statement in first + second + retry)
    with api.app.app_context():
        stored = db.session.execute(select(Checkin.answer_status, Checkin.answer).order_by(Checkin.id)).all()
    assert [(status, orjson.loads(text)) for status, text in stored] == [
        (201, answers[0].get_json()),
        (409, answers[1].get_json()),
    ]


def test_the_answer_built_with_orjson_is_what_the_schema_dumps(api, client, door):
    from ticketing.schemas.checkins import CheckinResult

    _void(api, door["codes"]["A2"])
    for response in (
        _scan(client, door, door["codes"]["A1"], gate="North"),
        _scan(client, door, door["codes"]["A2"], force=True),
        _scan(client, door, "NOSUCHCODE", force=True),
    ):
        assert response.status_code == 201 and response.mimetype == "application/json"
        body = response.get_json()
        assert CheckinResult().dump(body) == body
        assert not CheckinResult().validate(body)


def _another_door_scanned_meanwhile(monkeypatch, door: dict, *, nonce: str) -> None:
    """Make the ticket's locking read miss a scan, as PostgreSQL's does when another door's scan of
    the same ticket commits while the read waits for the row lock (the read's snapshot is older than
    that commit): the scan is written right after the read, in the same transaction."""
    from ticketing.services import checkins as service

    lock = service.select_ticket_for_scan

    def read_then_scanned_meanwhile(session, **kwargs):
        rows = lock(session, **kwargs)
        now = datetime.utcnow()
        other = {"message": "Ticket admitted at the other door", "result": "admitted"}
        session.connection().execute(
            insert(Checkin.__table__).values(
                event_id=door["event_id"],
                ticket_id=rows[0].id,
                code=kwargs["code"],
                nonce=nonce,
                type="entry",
                result="admitted",
                gate="Other door",
                forced=False,
                scanned_at=now,
                recorded_at=now,
                user_id=None,
                answer_status=201,
                answer=orjson.dumps(other).decode(),
            )
        )
        return rows

    monkeypatch.setattr(service, "select_ticket_for_scan", read_then_scanned_meanwhile)


def test_a_scan_that_another_door_recorded_while_the_lock_was_awaited_counts(api, client, door, monkeypatch):
    """The locking read saw the ticket outside; another door admitted it before the lock was had: the
    INSERT, guarded by the count of the ticket's scans, writes nothing, and the scan is decided again
    on every scan: refused, naming the other door."""
    _another_door_scanned_meanwhile(monkeypatch, door, nonce="other-door")
    response = _scan(client, door, door["codes"]["A1"], gate="North")
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["code"] == "already_checked_in"
    assert response.get_json()["details"]["gate"] == "Other door"
    listed = _checkins(client, door)
    assert [(c["result"], c["gate"]) for c in listed] == [("admitted", "Other door"), ("already_checked_in", "North")]
    assert len({c["id"] for c in listed}) == 2


def test_a_retry_that_another_request_answered_while_the_lock_was_awaited_gets_that_answer(
    api, client, door, monkeypatch
):
    """The same nonce sent twice at once: the first request recorded its answer while the second
    waited for the lock; the second gives that answer and records nothing."""
    _another_door_scanned_meanwhile(monkeypatch, door, nonce="sent-twice")
    response = _scan(client, door, door["codes"]["A1"], nonce="sent-twice", gate="North")
    assert response.status_code == 201
    assert response.get_json() == {"message": "Ticket admitted at the other door", "result": "admitted"}
    assert [c["gate"] for c in _checkins(client, door)] == ["Other door"]


def test_a_scan_with_a_logged_out_token_or_a_deleted_account_is_refused(api, client, door):
    """The scan's route leaves the token's lookup to the scan itself (security.checks_token_itself):
    a logged-out door's token and a deleted account are still refused, for a ticket and for an
    unknown code, and nothing is recorded."""
    from ticketing.models import User

    staff = door["people"]["door"]
    assert client.post("/auth/logout", headers=staff["headers"]).status_code == 200
    for code in (door["codes"]["A1"], "no-such-code"):
        answer = _scan(client, door, code)
        assert answer.status_code == 401 and answer.get_json()["code"] == "unauthorized", answer.get_json()
        assert answer.get_json()["message"] == "The token has been revoked."
    manager = door["people"]["manager"]
    with api.app.app_context():
        db.session.delete(db.session.get(User, manager["id"]))
        db.session.commit()
    for code in (door["codes"]["A1"], "no-such-code"):
        answer = _scan(client, door, code, who="manager")
        assert answer.status_code == 401, answer.get_json()
        assert answer.get_json()["message"] == "The token's account no longer exists."
    assert _checkins(client, {**door, "people": {**door["people"], "door": door["people"]["owner"]}}) == []
