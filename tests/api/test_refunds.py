"""Refunds (issue 14): tickets void and seats on sale again in one transaction, money back once,
by a manager or by the buyer while the event allows it; a gateway refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.refunding import RecordingGateway, buy, refund
from ticketing.clock import ManualClock
from ticketing.extensions import db
from ticketing.models import REFUND_PROCESSING, Refund, Ticket
from ticketing.services import refunds as refund_service


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def gateway():
    return RecordingGateway()


@pytest.fixture
def settings(clock, gateway):
    return {"CLOCK": clock, "PAYMENT_GATEWAY": gateway}


@pytest.fixture
def show(organizers, api):
    """An event on sale (A1-A3 at 25.00, B1-B3 at 10.00), its manager, and a buyer."""
    made = organizers.on_sale(default_price="10.00")
    return {**made, "buyer": api.user()}


def _seat(client, seat_id):
    return client.get(f"/seats/{seat_id}").get_json()["seat"]


def test_a_manager_refunds_a_whole_order(client, show, gateway):
    seats = [show["seats"]["A1"], show["seats"]["B1"]]
    order = buy(client, show["buyer"], seats)
    answer = refund(client, show["manager"], order["id"], reason="Moved abroad")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["order"]["status"] == "refunded" and body["order"]["refunded_total"] == "35.00"
    assert body["refund"]["amount"] == "35.00" and body["refund"]["currency"] == "USD"
    assert sorted(body["refund"]["ticket_codes"]) == sorted(t["code"] for t in order["tickets"])
    assert {t["status"] for t in body["order"]["tickets"]} == {"void"}
    assert "refunded" in body["message"]
    assert [_seat(client, seat_id)["status"] for seat_id in seats] == ["available", "available"]
    assert gateway.refunded_cents == 3500
    mine = client.get("/tickets", headers=show["buyer"]["headers"]).get_json()["tickets"]
    assert {ticket["status"] for ticket in mine} == {"void"}


def test_part_of_an_order_then_the_rest(client, show, gateway):
    order = buy(client, show["buyer"], [show["seats"]["A1"], show["seats"]["A2"], show["seats"]["B3"]])
    codes = {t["seat_id"]: t["code"] for t in order["tickets"]}
    first = refund(client, show["manager"], order["id"], ticket_codes=[codes[show["seats"]["A2"]]])
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["order"]["status"] == "partially_refunded"
    assert first.get_json()["order"]["refunded_total"] == "25.00"
    assert _seat(client, show["seats"]["A2"])["status"] == "available"
    assert _seat(client, show["seats"]["A1"])["status"] == "booked"

    again = refund(client, show["manager"], order["id"], ticket_codes=[codes[show["seats"]["A2"]]])
    assert again.status_code == 409 and again.get_json()["code"] == "ticket_not_refundable"
    assert again.get_json()["details"] == {"ticket_codes": [codes[show["seats"]["A2"]]]}

    rest = refund(client, show["manager"], order["id"])  # every valid ticket left
    assert rest.status_code == 200
    assert rest.get_json()["refund"]["amount"] == "35.00"
    assert rest.get_json()["order"]["status"] == "refunded" and rest.get_json()["order"]["refunded_total"] == "60.00"
    assert gateway.refunded_cents == 6000

    done = refund(client, show["manager"], order["id"])
    assert done.status_code == 409 and done.get_json()["code"] == "order_not_refundable"


def test_a_refunded_seat_sells_again(client, show, api):
    order = buy(client, show["buyer"], [show["seats"]["A1"]])
    assert refund(client, show["manager"], order["id"]).status_code == 200
    other = api.user()
    again = buy(client, other, [show["seats"]["A1"]])
    assert again["status"] == "paid" and _seat(client, show["seats"]["A1"])["status"] == "booked"
    with api.app.app_context():
        statuses = db.session.scalars(select(Ticket.status).where(Ticket.seat_id == show["seats"]["A1"])).all()
    assert sorted(statuses) == ["valid", "void"]


def test_refusals(client, show, api):
    pending = client.post("/orders", json={"seat_ids": [show["seats"]["A3"]]}, headers=show["buyer"]["headers"])
    not_paid = refund(client, show["manager"], pending.get_json()["order"]["id"])
    assert not_paid.status_code == 409 and not_paid.get_json()["code"] == "order_not_refundable"

    order = buy(client, show["buyer"], [show["seats"]["A1"]])
    unknown = refund(client, show["manager"], order["id"], ticket_codes=["nosuchcode"])
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "ticket_not_found"
    twice = refund(client, show["manager"], order["id"], ticket_codes=["x", "x"])
    assert twice.status_code == 400 and twice.get_json()["code"] == "validation_error"
    missing = refund(client, show["manager"], 999_999)
    assert missing.status_code == 404 and missing.get_json()["code"] == "order_not_found"
    assert client.post(f"/orders/{order['id']}/refund", json={}).status_code == 401


def test_roles(client, show, organizers, api):
    order = buy(client, show["buyer"], [show["seats"]["A1"]])
    door, outsider, stranger_buyer = api.user(), api.user(), api.user()
    organizers.add_member(show["manager"], show["organization_id"], door, "door")
    as_door = refund(client, door, order["id"])
    assert as_door.status_code == 403 and as_door.get_json()["code"] == "forbidden"
    for who in (outsider, stranger_buyer):
        answer = refund(client, who, order["id"])
        assert answer.status_code == 404 and answer.get_json()["code"] == "order_not_found"
    # The buyer, while the event takes no refunds from buyers (the default).
    own = refund(client, show["buyer"], order["id"])
    assert own.status_code == 409 and own.get_json()["code"] == "order_not_refundable"
    manager = api.user()
    organizers.add_member(show["manager"], show["organization_id"], manager, "manager")
    assert refund(client, manager, order["id"]).status_code == 200
    admin = organizers.admin()
    second = buy(client, show["buyer"], [show["seats"]["A2"]])
    assert refund(client, admin, second["id"]).status_code == 200


def test_the_buyer_refunds_until_the_event_says(client, show, clock):
    until = (clock.now() + timedelta(days=1)).isoformat(timespec="seconds") + "Z"
    changed = client.patch(
        f"/events/{show['event']['id']}", json={"buyer_refunds_until": until}, headers=show["manager"]["headers"]
    )
    assert changed.status_code == 200, changed.get_json()
    first = buy(client, show["buyer"], [show["seats"]["A1"]])
    second = buy(client, show["buyer"], [show["seats"]["A2"]])
    own = refund(client, show["buyer"], first["id"])
    assert own.status_code == 200 and own.get_json()["order"]["status"] == "refunded"
    clock.advance(timedelta(days=1).total_seconds())
    late = refund(client, show["buyer"], second["id"])
    assert late.status_code == 409 and late.get_json()["code"] == "order_not_refundable"
    assert "closed" in late.get_json()["message"]


def test_a_refusing_gateway_changes_nothing_and_the_same_key_retries(client, show, gateway):
    order = buy(client, show["buyer"], [show["seats"]["A1"], show["seats"]["A2"]])
    gateway.fail_refunds = 1
    failed = refund(client, show["manager"], order["id"], key="refund-1")
    assert failed.status_code == 502 and failed.get_json()["code"] == "payment_gateway_error"
    seen = client.get(f"/orders/{order['id']}", headers=show["buyer"]["headers"]).get_json()["order"]
    assert seen["status"] == "paid" and seen["refunded_total"] == "0.00"
    assert {t["status"] for t in seen["tickets"]} == {"valid"}
    assert _seat(client, show["seats"]["A1"])["status"] == "booked"
    assert gateway.refunded_cents == 0

    retried = refund(client, show["manager"], order["id"], key="refund-1")
    assert retried.status_code == 200, retried.get_json()
    replayed = refund(client, show["manager"], order["id"], key="refund-1")
    assert replayed.status_code == 200 and replayed.get_json()["refund"] == retried.get_json()["refund"]
    assert gateway.refunded_cents == 5000 and len(gateway.refunds) == 1


def test_tok_refund_fails_refuses_every_refund_of_its_order(client, show):
    order = buy(client, show["buyer"], [show["seats"]["A1"]], token="tok_refundFails")
    for _ in range(2):
        answer = refund(client, show["manager"], order["id"], key="k")
        assert answer.status_code == 502 and answer.get_json()["code"] == "payment_gateway_error"
    other_key = refund(client, show["manager"], order["id"])
    assert other_key.status_code == 502
    assert _seat(client, show["seats"]["A1"])["status"] == "booked"


def test_an_interrupted_refund_is_finished_by_the_sweeper_once(api, client, show, gateway, clock):
    """The process dies after the gateway refunded and before COMMIT: the refund row stays
    `processing`; the sweeper asks the gateway again with the same reference and applies it."""
    order = buy(client, show["buyer"], [show["seats"]["A1"], show["seats"]["B1"]])
    with api.app.app_context():
        start = refund_service._begin_refund(
            user_id=show["manager"]["id"],
            order_id=order["id"],
            ticket_codes=None,
            reason=None,
            idempotency_key=None,
            clock=clock.now,
            authorize=True,
        )
        gateway.refund(charge_id=start.charge_id, amount_cents=start.amount_cents, reference=start.reference)
        db.session.remove()  # ... and here the process dies
    seen = client.get(f"/orders/{order['id']}", headers=show["buyer"]["headers"]).get_json()["order"]
    assert seen["status"] == "paid"
    blocked = refund(client, show["manager"], order["id"])
    assert blocked.status_code == 409 and blocked.get_json()["code"] == "refund_in_progress"

    clock.advance(61)
    result = api.app.test_cli_runner().invoke(args=["expire-holds"])
    assert result.exit_code == 0, result.output
    assert "finished 1 interrupted refunds" in result.output
    seen = client.get(f"/orders/{order['id']}", headers=show["buyer"]["headers"]).get_json()["order"]
    assert seen["status"] == "refunded" and seen["refunded_total"] == "35.00"
    assert _seat(client, show["seats"]["A1"])["status"] == "available"
    assert gateway.refunded_cents == 3500 and gateway.calls == 2  # asked twice, refunded once
    with api.app.app_context():
        assert db.session.scalar(select(Refund.status)) == "succeeded"


def test_an_interrupted_refund_is_finished_by_the_same_key(api, client, show, gateway, clock):
    order = buy(client, show["buyer"], [show["seats"]["A1"]])
    with api.app.app_context():
        start = refund_service._begin_refund(
            user_id=show["manager"]["id"],
            order_id=order["id"],
            ticket_codes=None,
            reason=None,
            idempotency_key="once",
            clock=clock.now,
            authorize=True,
        )
        gateway.refund(charge_id=start.charge_id, amount_cents=start.amount_cents, reference=start.reference)
        assert db.session.scalar(select(Refund.status)) == REFUND_PROCESSING
        db.session.remove()
    finished = refund(client, show["manager"], order["id"], key="once")
    assert finished.status_code == 200, finished.get_json()
    assert finished.get_json()["order"]["status"] == "refunded"
    assert gateway.refunded_cents == 2500


def test_a_free_order_is_refunded_without_the_gateway(client, organizers, api, gateway):
    made = organizers.on_sale()  # row B has no price
    buyer = api.user()
    created = client.post("/orders", json={"seat_ids": [made["seats"]["B1"]]}, headers=buyer["headers"])
    order = client.post(f"/orders/{created.get_json()['order']['id']}/pay", json={}, headers=buyer["headers"])
    assert order.status_code == 200, order.get_json()
    answer = refund(client, made["manager"], order.get_json()["order"]["id"])
    assert answer.status_code == 200 and answer.get_json()["refund"]["amount"] == "0.00"
    assert gateway.calls == 0


def _scan(client, who: dict, event_id: int, code: str, nonce: str):
    return client.post(f"/events/{event_id}/checkins", json={"code": code, "nonce": nonce}, headers=who["headers"])


def test_a_ticket_whose_refund_is_under_way_is_refused_at_the_door(api, client, show, gateway, clock):
    """Between the refund's record and its COMMIT (the gateway is thinking) the ticket is no longer
    admitted: it can never be both used and refunded."""
    order = buy(client, show["buyer"], [show["seats"]["A1"]])
    code = order["tickets"][0]["code"]
    with api.app.app_context():
        refund_service._begin_refund(
            user_id=show["manager"]["id"],
            order_id=order["id"],
            ticket_codes=None,
            reason=None,
            idempotency_key="door",
            clock=clock.now,
            authorize=True,
        )
        db.session.remove()  # the gateway call is still out
    scan = _scan(client, show["manager"], show["event"]["id"], code, "n1")
    assert scan.status_code == 409 and scan.get_json()["code"] == "ticket_void"
    finished = refund(client, show["manager"], order["id"], key="door")
    assert finished.status_code == 200 and finished.get_json()["order"]["status"] == "refunded"


def test_a_refund_the_gateway_refused_leaves_the_ticket_usable(client, show):
    order = buy(client, show["buyer"], [show["seats"]["A1"]], token="tok_refundFails")
    assert refund(client, show["manager"], order["id"]).status_code == 502
    scan = _scan(client, show["manager"], show["event"]["id"], order["tickets"][0]["code"], "n1")
    assert scan.status_code == 201 and scan.get_json()["result"] == "admitted"


def test_a_ticket_used_at_the_door_is_not_refunded_and_the_report_counts_it(client, show):
    order = buy(client, show["buyer"], [show["seats"]["A1"], show["seats"]["B1"]])
    used = order["tickets"][0]["code"]
    assert _scan(client, show["manager"], show["event"]["id"], used, "n1").status_code == 201
    refused = refund(client, show["manager"], order["id"], ticket_codes=[used])
    assert refused.status_code == 409 and refused.get_json()["code"] == "ticket_not_refundable"
    rest = refund(client, show["manager"], order["id"])  # all still refundable: the other one
    assert rest.status_code == 200 and rest.get_json()["refund"]["ticket_codes"] == [order["tickets"][1]["code"]]
    report = client.get(f"/events/{show['event']['id']}/report", headers=show["manager"]["headers"]).get_json()
    assert report["report"]["tickets"] == {"valid": 1, "void": 1, "checked_in": 1}
