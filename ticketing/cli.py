"""Flask commands: seeding, users, clean-up."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from marshmallow import ValidationError

from config import ConfigurationError, check_start, start_warnings

from .cli_organizers import COMMANDS as ORGANIZER_COMMANDS
from .clock import current_clock, current_time
from .errors import EmailTakenError
from .extensions import db
from .schemas.auth import RegisterSchema
from .services import auth as auth_service
from .services import catalogue
from .services.cancellation import finish_cancellation, unfinished_cancellations
from .services.demo import seed_demo_organizer
from .services.expiry import expire_due, forget_revoked_tokens
from .services.payments import reconcile_payments
from .services.refunds import reconcile_refunds
from .services.seeding import parse_rows, seed_event
from .startup import warn_at_start

log = logging.getLogger(__name__)

DEMO_EVENT = {"name": "Demo concert", "rows": "A-J", "per_row": 20, "price_cents": 0}
# A second demo event with a price, so that the page's payment step can be tried with the test cards.
DEMO_PAID_EVENT = {"name": "Demo theatre (25.00 a seat)", "rows": "A-H", "per_row": 16, "price_cents": 2500}
# The example theatre (stalls and balcony, three price categories) of the demo organizer's event.
THEATRE_LAYOUT = Path(__file__).resolve().parent.parent / "docs" / "layouts" / "theatre.json"


# A seat's price, at most: far below what a BIGINT of cents holds, and what card gateways take at once.
MAX_PRICE = Decimal("1000000.00")
EVENT_NAME_LENGTH = 200  # events.name
# ISO 4217 currencies whose minor unit is not the cent (0, 3 or 4 decimals) and codes that are no
# currency (metals, funds). Prices are stored in hundredths and shown with two decimals, so these
# would show wrong amounts (2500 yen as "25.00"): refused rather than mis-shown.
NOT_TWO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV"}  # none
    | {"XAF", "XOF", "XPF"}  # none (the CFA and CFP francs)
    | {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}  # three
    | {"CLF", "UYW"}  # four
    | {"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"}  # not money
)


def _cents(price: str) -> int:
    """The price in cents, or BadParameter naming --price."""
    try:
        value = Decimal(price.strip())
    except InvalidOperation:
        raise click.BadParameter(f"{price!r} is not a price like 25 or 25.00", param_hint="--price") from None
    if not value.is_finite():
        raise click.BadParameter(f"{price!r} is not a price like 25 or 25.00", param_hint="--price")
    if not 0 <= value <= MAX_PRICE:
        raise click.BadParameter(f"the price must be from 0 to {MAX_PRICE}, got {price!r}", param_hint="--price")
    if value != value.quantize(Decimal("0.01")):
        raise click.BadParameter("the price has at most two decimals", param_hint="--price")
    return int(value * 100)


def _event_name(name: str) -> str:
    """The event's name, trimmed, or BadParameter naming --event."""
    name = name.strip()
    if not name:
        raise click.BadParameter("the event needs a name", param_hint="--event")
    if len(name) > EVENT_NAME_LENGTH:
        raise click.BadParameter(f"at most {EVENT_NAME_LENGTH} characters, got {len(name)}", param_hint="--event")
    return name


def _currency(code: str) -> str:
    """An ISO 4217 code whose minor unit is the cent, upper-cased, or BadParameter naming --currency."""
    code = code.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise click.BadParameter(
            f"a three-letter ISO 4217 code such as USD or EUR, got {code!r}", param_hint="--currency"
        )
    if code in NOT_TWO_DECIMAL_CURRENCIES:
        raise click.BadParameter(
            f"{code} does not have two decimals (cents); prices are kept and shown in hundredths, so only "
            "currencies with two decimals are supported",
            param_hint="--currency",
        )
    return code


def _naive_utc(moment: str | None, now: datetime) -> datetime | None:
    """The start time as naive UTC, or BadParameter naming --starts-at (not a time, or in the past)."""
    if moment is None:
        return None
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        raise click.BadParameter(f"{moment!r} is not an ISO 8601 time", param_hint="--starts-at") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    if parsed <= now:
        raise click.BadParameter(
            f"{moment} is in the past (now is {now.isoformat(timespec='seconds')} UTC)", param_hint="--starts-at"
        )
    return parsed


@click.command("seed-seats")
@with_appcontext
@click.option("--event", "name", required=True, help="The event's name.")
@click.option("--rows", default="A-J", show_default=True, help="Row letters, e.g. A-J (or A-CV).")
@click.option("--per-row", default=20, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--price", default="0", show_default=True, help="Price of every seat, e.g. 25.00 (at most 1000000).")
@click.option("--currency", default="USD", show_default=True, help="ISO 4217 code of a currency with cents.")
@click.option("--starts-at", default=None, help="ISO 8601 start time in the future (UTC when no offset is given).")
def seed_seats_command(name, rows, per_row, price, currency, starts_at):
    """Create an event with its seats; the last line printed is the new event's id."""
    name = _event_name(name)
    try:
        row_names = parse_rows(rows)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--rows") from None
    price_cents, currency = _cents(price), _currency(currency)
    starts = _naive_utc(starts_at, current_time())
    started = time.perf_counter()
    try:
        seeded = seed_event(
            name=name, rows=row_names, per_row=per_row, price_cents=price_cents, currency=currency, starts_at=starts
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    elapsed = time.perf_counter() - started
    click.echo(f"Created event {seeded.id} ({name!r}) with {seeded.seat_count} seats in {elapsed:.2f} s", err=True)
    click.echo(seeded.id)


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create the demo events (one free, one priced, one of the demo organizer's at the example theatre)
    when there is no event at all (used by `make run`); the demo organizer's login is printed last."""
    if catalogue.list_events(now=current_time(), viewer_id=None):
        click.echo("Events exist already; no demo event seeded.", err=True)
        return
    free, paid = (
        seed_event(
            name=demo["name"],
            rows=parse_rows(demo["rows"]),
            per_row=demo["per_row"],
            price_cents=demo["price_cents"],
            currency="USD",
            starts_at=None,
        )
        for demo in (DEMO_EVENT, DEMO_PAID_EVENT)
    )
    click.echo(f"Seeded demo event {free.id} with {free.seat_count} free seats.", err=True)
    click.echo(f"Seeded demo event {paid.id} with {paid.seat_count} seats at 25.00 USD.", err=True)
    demo = seed_demo_organizer(theatre_layout=json.loads(THEATRE_LAYOUT.read_text()), clock=current_clock())
    click.echo(
        f"Seeded demo event {demo.event_id} with {demo.seat_count} seats in sections and three price categories, "
        f"organized by organization {demo.organization_id}.",
        err=True,
    )
    click.echo(f"Demo organizer login: {demo.email} / {demo.password}", err=True)
    click.echo(free.id)


def _checked_as_registration(field: str) -> Callable:
    """A click callback that checks the option exactly as POST /auth/register checks its `field`."""

    def check(_context: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return RegisterSchema().load({field: value}, partial=True)[field]
        except ValidationError as error:
            raise click.BadParameter(" ".join(error.messages.get(field, ["Invalid value."]))) from None

    return check


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True, callback=_checked_as_registration("email"))
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    callback=_checked_as_registration("password"),
    help="Asked twice, hidden, when not given (a password on the command line stays in the shell's history).",
)
@click.option("--name", default=None, callback=_checked_as_registration("name"))
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
def create_user_command(email, password, name, admin):
    """Create an account (for operators; clients use POST /auth/register)."""
    try:
        user = auth_service.register_user(email=email, password=password, name=name, is_admin=admin)
    except EmailTakenError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created user {user.id} <{user.email}>{' (admin)' if admin else ''}.", err=True)
    click.echo(user.id)


@click.command("expire-holds")
@with_appcontext
@click.option(
    "--loop",
    "keep_running",
    is_flag=True,
    help="Keep running: a pass every --interval seconds, until SIGTERM or SIGINT (the current pass finishes).",
)
@click.option(
    "--interval",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds from the start of one pass to the start of the next (with --loop).",
)
def expire_holds_command(keep_running, interval):
    """Settle interrupted payments, expire orders and release locks whose time has passed.

    Tidying only: every read and write already treats an expired lock or order as gone.
    """
    refuse_unsafe_start(serving=False)  # it settles and refunds payments through the gateway
    if keep_running:
        run_sweeper(interval=interval, stop=_stop_on_signals())
        return
    tidied = tidy_once()
    click.echo(
        f"Released {tidied['released_locks']} expired locks, expired {tidied['expired_orders']} orders, "
        f"settled {tidied['settled_payments']} interrupted payments ({tidied['abandoned_payments']} never "
        f"reached the gateway), refunded {tidied['refunded_payments']}; finished {tidied['finished_refunds']} "
        f"interrupted refunds ({tidied['failed_refunds']} refused by the gateway) and the cancellation of "
        f"{tidied['cancelled_events_finished']} events."
    )


def refuse_unsafe_start(*, serving: bool) -> None:
    """Stop a command that serves or takes payments where production must not (config.start_refusals).

    wsgi.py builds the app of a `flask` command with those refusals deferred, so that migrations
    and user accounts need no JWT secret; the commands that need them ask here, then log the
    start warnings as a server would.
    """
    try:
        check_start(current_app.config, serving=serving)
    except ConfigurationError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None
    warn_at_start(start_warnings(current_app.config, workers=1))


def tidy_once() -> dict[str, int]:
    """One clean-up pass: settle interrupted payments and refunds, finish cancelled events, then expire
    orders, then release plain locks."""
    now = current_time()
    gateway = current_app.extensions["payment_gateway"]
    report = reconcile_payments(now=now, gateway=gateway)
    refunds = reconcile_refunds(now=now, gateway=gateway)
    cancellations = unfinished_cancellations()
    for event_id in cancellations:
        finish_cancellation(event_id=event_id, user_id=None, clock=current_clock(), gateway=gateway)
    expired = expire_due(now=now)
    forget_revoked_tokens(now=now)
    return {
        "released_locks": expired.holds,
        "expired_orders": expired.orders,
        "settled_payments": report.settled,
        "abandoned_payments": report.abandoned,
        "refunded_payments": report.refunded,
        "finished_refunds": refunds.applied,
        "failed_refunds": refunds.failed,
        "cancelled_events_finished": len(cancellations),
    }


def _stop_on_signals() -> threading.Event:
    """An event set by the first SIGTERM or SIGINT; a second one stops at once."""
    stop = threading.Event()

    def request_stop(signum, _frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.info("stopping after the current pass", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop


def run_sweeper(*, interval: float, stop: threading.Event, tidy: Callable[[], dict] = tidy_once) -> None:
    """Run `tidy` every `interval` seconds until `stop` is set; a failed pass is logged, never fatal."""
    log.info("sweeper started", extra={"interval_seconds": interval})
    while not stop.is_set():
        started = time.monotonic()
        try:
            tidied = tidy()
        except Exception:  # the database restarting, a gateway timing out: try again next pass
            log.exception("sweeper pass failed; retrying in %s s", interval)
        else:
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            log.info("sweeper pass", extra={**tidied, "duration_ms": duration_ms})
        finally:
            db.session.remove()  # no connection or snapshot held between passes
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
    log.info("sweeper stopped")


def register_commands(app: Flask) -> None:
    """Add the commands to `flask --app wsgi ...`."""
    for command in (seed_seats_command, seed_demo_command, create_user_command, expire_holds_command):
        app.cli.add_command(command)
    for command in ORGANIZER_COMMANDS:
        app.cli.add_command(command)
