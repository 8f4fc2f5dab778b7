"""The flask commands: seeding, users, clean-up."""

from __future__ import annotations

import pytest


def test_seed_seats_prints_the_event_id_last(app, client):
    result = app.test_cli_runner().invoke(
        args=[
            "seed-seats",
            "--event",
            "Opera",
            "--rows",
            "A-C",
            "--per-row",
            "4",
            "--price",
            "19.90",
            "--currency",
            "eur",
            "--starts-at",
            "2027-01-02T19:30:00+01:00",
        ]
    )
    assert result.exit_code == 0, result.output
    event_id = int(result.stdout.strip().splitlines()[-1])
    event = client.get(f"/events/{event_id}").get_json()["event"]
    assert event["name"] == "Opera" and event["seat_count"] == 12 and event["currency"] == "EUR"
    assert event["starts_at"] == "2027-01-02T18:30:00.000Z"
    seats = client.get(f"/events/{event_id}/seats").get_json()["seats"]
    assert seats[-1]["label"] == "C4" and seats[-1]["price"] == "19.90"


@pytest.mark.parametrize(
    "args",
    [
        ["--rows", "J-A"],
        ["--rows", "1-5"],
        ["--per-row", "0"],
        ["--price", "-1"],
        ["--price", "1.234"],
        ["--price", "abc"],
        ["--starts-at", "tomorrow"],
        ["--currency", "EURO"],
    ],
)
def test_seed_seats_rejects_bad_options(app, args):
    result = app.test_cli_runner().invoke(args=["seed-seats", "--event", "X", *args])
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_seed_demo_only_when_empty(app, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    events = client.get("/events").get_json()["events"]
    counts = [(event["seat_count"], event["available"], event["blocked"]) for event in events]
    assert counts == [(200, 200, 0), (128, 128, 0), (400, 398, 2)]  # the theatre's sound desk is blocked
    assert first.stdout.strip().splitlines() == [str(events[0]["id"])]  # the free one, alone, for scripts
    prices = {seat["price"] for seat in client.get(f"/events/{events[1]['id']}/seats").get_json()["seats"]}
    assert prices == {"25.00"}
    theatre = events[2]
    assert theatre["status"] == "on_sale" and theatre["organization_id"] is not None
    assert theatre["categories"] == [
        {"name": "Premium", "price": "45.00"},
        {"name": "Standard", "price": "30.00"},
        {"name": "Balcony", "price": "20.00"},
    ]
    # The demo organizer's login comes last on stderr, and it works: they see their organization.
    login = first.stderr.strip().splitlines()[-1]
    assert login.startswith("Demo organizer login: ")
    email, password = login.removeprefix("Demo organizer login: ").split(" / ")
    token = client.post("/auth/login", json={"email": email, "password": password}).get_json()["access_token"]
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["organizations"] == [{"id": theatre["organization_id"], "name": "Demo Theatre Company", "role": "owner"}]


def test_create_user_then_login(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "--email", "boss@example.com", "--password", "long enough", "--admin"])
    assert result.exit_code == 0, result.output
    token = client.post("/auth/login", json={"email": "boss@example.com", "password": "long enough"}).get_json()
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"}).get_json()
    assert me["user"]["is_admin"] is True
    again = runner.invoke(args=["create-user", "--email", "boss@example.com", "--password", "long enough"])
    assert again.exit_code != 0


def test_expire_holds_releases_only_expired_locks(api, app, client):
    seats = api.seed(rows="A", per_row=3)["seat_ids"]
    user = api.user()
    api.lock_taken_ago(user["id"], seats[0], seconds_ago=120)
    client.post(f"/seats/{seats[1]}/lock", headers=user["headers"])
    result = app.test_cli_runner().invoke(args=["expire-holds"])
    assert result.exit_code == 0
    assert "Released 1 " in result.output
    assert client.get(f"/seats/{seats[1]}").get_json()["seat"]["status"] == "locked"
    assert client.get(f"/seats/{seats[0]}").get_json()["seat"]["status"] == "available"
