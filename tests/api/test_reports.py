"""What an event's managers read (issue 14): the report equals a direct count, in one snapshot even
while buyers buy and refunds run; the attendee CSV; the orders with their buyers in keyset pages."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from sqlalchemy import func, select

from tests.refunding import RecordingGateway, buy, refund
from ticketing.extensions import db
from ticketing.models import Order, Seat, Ticket, effective_status_sql, utcnow


@pytest.fixture
def settings():
    return {"PAYMENT_GATEWAY": RecordingGateway()}


@pytest.fixture
def show(organizers, api):
    made = organizers.on_sale(default_price="10.00")
    return {**made, "buyers": [api.user() for _ in range(3)]}


def _report(client, show):
    answer = client.get(f"/events/{show['event']['id']}/report", headers=show["manager"]["headers"])
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["report"]


def _direct_count(app, event_id: int) -> dict:
    """The same numbers, counted straight from the tables."""
    with app.app_context():
        state = effective_status_sql(utcnow())
        seats = dict(
            db.session.execute(select(state, func.count()).where(Seat.event_id == event_id).group_by(state)).all()
        )
        tickets = dict(
            db.session.execute(
                select(Ticket.status, func.count())
                .join(Seat, Seat.id == Ticket.seat_id)
                .where(Seat.event_id == event_id)
                .group_by(Ticket.status)
            ).all()
        )
        paid = db.session.execute(
            select(Order.total_cents, Order.refunded_cents).where(
                Order.event_id == event_id, Order.status.in_(("paid", "partially_refunded", "refunded"))
            )
        ).all()
        db.session.remove()
    return {"seats": seats, "tickets": tickets, "gross": sum(t for t, _ in paid), "refunded": sum(r for _, r in paid)}


def test_the_report_is_what_a_direct_count_gives(app, client, show):
    seats = show["seats"]
    first = buy(client, show["buyers"][0], [seats["A1"], seats["A2"], seats["B1"]])
    buy(client, show["buyers"][1], [seats["A3"]])
    client.post("/orders", json={"seat_ids": [seats["B2"]]}, headers=show["buyers"][2]["headers"])
    client.post(
        f"/events/{show['event']['id']}/seats/block",
        json={"seat_ids": [seats["B3"]]},
        headers=show["manager"]["headers"],
    )
    code = next(t["code"] for t in first["tickets"] if t["seat_id"] == seats["A2"])
    assert refund(client, show["manager"], first["id"], ticket_codes=[code]).status_code == 200

    report = _report(client, show)
    assert report["seats"] == {"available": 1, "locked": 1, "booked": 3, "blocked": 1}
    assert report["tickets"] == {"valid": 3, "void": 1, "checked_in": 0}
    assert report["revenue"] == {"gross": "85.00", "refunded": "25.00", "net": "60.00", "currency": "USD"}
    assert report["by_category"] == [
        {"category": "Stalls", "price": "25.00", "booked": 2, "revenue": "50.00"},
        {"category": None, "price": "10.00", "booked": 1, "revenue": "10.00"},
    ]
    direct = _direct_count(app, show["event"]["id"])
    assert {k: v for k, v in report["seats"].items() if v} == direct["seats"]
    assert {k: v for k, v in report["tickets"].items() if v and k != "checked_in"} == direct["tickets"]
    assert (direct["gross"], direct["refunded"]) == (8500, 2500)


def test_the_report_is_one_snapshot_while_people_buy_and_refund(app, show, organizers, api):
    """Buyers and refunds run in threads while the report is read again and again: every report adds
    up (booked seats = valid tickets, net = revenue by category, seats sum to the event's)."""
    venue = organizers.venue(
        show["manager"],
        show["organization_id"],
        {
            "sections": [
                {
                    "name": "",
                    "rows": [{"name": "A", "seats": [{"number": n, "category": "Stalls"} for n in range(1, 25)]}],
                }
            ]
        },
    )
    event = organizers.event(show["manager"], show["organization_id"], venue["id"])
    organizers.publish(show["manager"], event["id"])
    seat_ids = [seat["id"] for seat in organizers.seats(event["id"], show["manager"])]
    stop = threading.Event()
    failures: list = []

    def shopper(index: int) -> None:
        client = app.test_client()
        buyer = show["buyers"][index]
        mine = seat_ids[index::3]
        try:
            while not stop.is_set():
                for seat_id in mine:
                    created = client.post("/orders", json={"seat_ids": [seat_id]}, headers=buyer["headers"])
                    if created.status_code != 201:
                        continue
                    order_id = created.get_json()["order"]["id"]
                    paid = client.post(
                        f"/orders/{order_id}/pay", json={"payment_token": "tok_visa"}, headers=buyer["headers"]
                    )
                    if paid.status_code == 200:
                        refund(client, show["manager"], order_id)
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=shopper, args=(index,)) for index in range(3)]
    for thread in threads:
        thread.start()
    client = app.test_client()
    try:
        for _ in range(15):
            answer = client.get(f"/events/{event['id']}/report", headers=show["manager"]["headers"])
            report = answer.get_json()["report"]
            assert sum(report["seats"].values()) == 24
            assert report["seats"]["booked"] == report["tickets"]["valid"]
            by_category = sum(float(line["revenue"]) for line in report["by_category"])
            assert f"{by_category:.2f}" == report["revenue"]["net"]
            assert float(report["revenue"]["gross"]) - float(report["revenue"]["refunded"]) == float(
                report["revenue"]["net"]
            )
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not failures


def test_the_attendee_csv(client, show):
    seats = show["seats"]
    order = buy(client, show["buyers"][0], [seats["A1"], seats["B1"]])
    code = next(t["code"] for t in order["tickets"] if t["seat_id"] == seats["B1"])
    refund(client, show["manager"], order["id"], ticket_codes=[code])
    answer = client.get(f"/events/{show['event']['id']}/attendees.csv", headers=show["manager"]["headers"])
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.is_streamed
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0] == [
        "ticket_code",
        "seat",
        "section",
        "row",
        "number",
        "category",
        "price",
        "order_id",
        "buyer_email",
        "status",
        "checked_in_at",
    ]
    email = show["buyers"][0]["email"]
    assert sorted(rows[1:]) == sorted(
        [
            [
                t["code"],
                t["label"],
                "",
                t["label"][0],
                t["label"][1:],
                "Stalls" if t["label"] == "A1" else "",
                "25.00" if t["label"] == "A1" else "10.00",
                str(order["id"]),
                email,
                "void" if t["code"] == code else "valid",
                "",
            ]
            for t in order["tickets"]
        ]
    )


def test_the_event_orders_in_pages_with_their_buyers(client, show):
    seats = show["seats"]
    made = [buy(client, show["buyers"][i], [seats[label]]) for i, label in enumerate(("A1", "A2", "A3"))]
    pending = client.post("/orders", json={"seat_ids": [seats["B1"]]}, headers=show["buyers"][0]["headers"])
    refund(client, show["manager"], made[1]["id"])
    url = f"/events/{show['event']['id']}/orders"
    first = client.get(f"{url}?limit=2", headers=show["manager"]["headers"]).get_json()
    assert [o["id"] for o in first["orders"]] == [made[0]["id"], made[1]["id"]]
    assert first["orders"][0]["buyer"] == {"id": show["buyers"][0]["id"], "email": show["buyers"][0]["email"]}
    assert first["next_after"] == made[1]["id"]
    second = client.get(f"{url}?limit=2&after={first['next_after']}", headers=show["manager"]["headers"]).get_json()
    assert [o["id"] for o in second["orders"]] == [made[2]["id"], pending.get_json()["order"]["id"]]
    assert second["next_after"] is None
    refunded = client.get(f"{url}?status=refunded", headers=show["manager"]["headers"]).get_json()["orders"]
    assert [o["id"] for o in refunded] == [made[1]["id"]] and refunded[0]["refunded_total"] == "25.00"
    waiting = client.get(f"{url}?status=pending_payment", headers=show["manager"]["headers"]).get_json()["orders"]
    assert [o["status"] for o in waiting] == ["pending_payment"]
    bad = client.get(f"{url}?status=nope", headers=show["manager"]["headers"])
    assert bad.status_code == 400


@pytest.mark.parametrize("path", ["report", "attendees.csv", "orders", "audit"])
def test_roles(client, organizers, api, show, path):
    door, outsider = api.user(), api.user()
    organizers.add_member(show["manager"], show["organization_id"], door, "door")
    url = f"/events/{show['event']['id']}/{path}"
    assert client.get(url).status_code == 401
    for who in (door, outsider, show["buyers"][0]):
        answer = client.get(url, headers=who["headers"])
        assert answer.status_code == 403 and answer.get_json()["code"] == "forbidden"
    draft = organizers.event(show["manager"], show["organization_id"], show["venue"]["id"])
    hidden = client.get(f"/events/{draft['id']}/{path}", headers=outsider["headers"])
    assert hidden.status_code == 404 and hidden.get_json()["code"] == "event_not_found"
    assert client.get(f"/events/{draft['id']}/{path}", headers=show["manager"]["headers"]).status_code == 200
    assert client.get(url, headers=organizers.admin()["headers"]).status_code == 200
