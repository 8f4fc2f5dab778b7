"""The flask commands: seeding, users, clean-up."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from ticketing.extensions import db
from ticketing.models import User


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
            "2099-01-02T19:30:00+01:00",
        ]
    )
    assert result.exit_code == 0, result.output
    event_id = int(result.stdout.strip().splitlines()[-1])
    event = client.get(f"/events/{event_id}").get_json()["event"]
    assert event["name"] == "Opera" and event["seat_count"] == 12 and event["currency"] == "EUR"
    assert event["starts_at"] == "2099-01-02T18:30:00.000Z"
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
        ["--price", "NaN"],
        ["--price", "sNaN"],
        ["--price", "Infinity"],
        ["--price", "-inf"],
        ["--price", "1e30"],  # more cents than a BIGINT holds
        ["--price", "1000000.01"],
        ["--starts-at", "tomorrow"],
        ["--starts-at", "2001-01-01T00:00:00"],
        ["--currency", "EURO"],
        ["--currency", "JPY"],  # no cents: 2500 yen would show as 25.00
        ["--currency", "krw"],
        ["--currency", "BHD"],  # three decimals
        ["--event", ""],
        ["--event", "   "],
        ["--event", "x" * 201],
        ["--currency", "\u00df\u00df\u00df"],  # three letters that upper-case to six ("SSSSSS")
        ["--currency", "\u00e9ur"],
    ],
)
def test_seed_seats_rejects_bad_options_naming_the_option(app, client, args):
    result = app.test_cli_runner().invoke(args=["seed-seats", "--event", "X", *args])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for {args[0]}:" in result.output.replace("'", "") and "Traceback" not in result.output
    assert client.get("/events").get_json()["events"] == []


def test_seed_seats_says_why_a_zero_decimal_currency_is_refused(app):
    result = app.test_cli_runner().invoke(args=["seed-seats", "--event", "Tokyo", "--currency", "JPY"])
    assert "JPY does not have two decimals" in result.output


def test_seed_seats_takes_the_largest_price(app, client):
    result = app.test_cli_runner().invoke(
        args=["seed-seats", "--event", "Gala", "--rows", "A", "--per-row", "1", "--price", "1000000"]
    )
    assert result.exit_code == 0, result.output
    event_id = int(result.stdout.strip().splitlines()[-1])
    assert client.get(f"/events/{event_id}/seats").get_json()["seats"][0]["price"] == "1000000.00"


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


def test_create_user_asks_for_the_password_twice_hidden(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-user", "--email", "ops@example.com"], input="first try!\nsecond try\nlong enough\nlong enough\n"
    )
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output and "do not match" in result.output
    assert "long enough" not in result.output and "first try" not in result.output  # never echoed
    assert client.post("/auth/login", json={"email": "ops@example.com", "password": "long enough"}).status_code == 200


def test_create_user_refuses_a_short_password_like_the_api(app):
    runner = app.test_cli_runner()
    given = runner.invoke(args=["create-user", "--email", "a@example.com", "--password", "short"])
    assert given.exit_code == 2 and "Invalid value for '--password'" in given.output
    asked = runner.invoke(args=["create-user", "--email", "a@example.com"], input="short\nlong enough\nlong enough\n")
    assert asked.exit_code == 0 and "Length must be between 8 and 1024" in asked.output  # and asked again


@pytest.mark.parametrize(
    "email",
    [
        "plain@example.com",
        "  Mixed.Case@Example.COM ",
        "no-at-sign",
        "two@@example.com",
        "spaces in@example.com",
        "trailing-dot@example.com.",
        "tab\t@example.com",
        "a@b",
        ("x" * 245) + "@example.com",
        "",
    ],
)
def test_create_user_checks_the_email_exactly_as_the_api(app, client, email):
    answer = client.post("/auth/register", json={"email": email, "password": "long enough"})
    assert answer.status_code in (201, 400, 422)
    api_email = answer.get_json()["user"]["email"] if answer.status_code == 201 else None
    with app.app_context():  # the API's account goes, so that the command may make the same one
        db.session.execute(delete(User))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["create-user", "--email", email, "--password", "long enough"])
    if api_email is None:
        assert result.exit_code == 2 and "Invalid value for '--email'" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert f"<{api_email}>" in result.output  # stored the same way


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "\u0130" * 64 + "@" + "d" * 60 + "." + "e" * 60 + ".example.com",
        "a" * 64 + "@" + "\u0130" * 100 + ".io",
    ],
)
def test_create_user_checks_the_email_as_the_api_does(app, email):
    result = app.test_cli_runner().invoke(args=["create-user", "--email", email, "--password", "long enough"])
    assert result.exit_code != 0 and "--email" in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # refused, not crashed


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
