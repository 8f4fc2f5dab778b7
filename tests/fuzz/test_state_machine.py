"""A stateful property test: random runs of lock, release, confirm, order, pay, cancel, clock moves, and
the organizer's block, unblock, publish, close and sales end, refunds and the event's cancellation.

Hypothesis drives the real app through its HTTP routes (Flask test client) as three buyers and one
organizer on one small event made from a venue (seats A1-A3 in a priced category, B1-B3 free), which
starts as a draft or on sale. A small model mirrors each seat and order and the event's status; every
answer's status and error code is predicted from the model and asserted, and after every step the
invariants compare the API's seat map, status filters, event counts and orders, and the tickets in the
database, with the model, and check that every order's money adds up (money in = money kept + money
refunded). The model follows the HTTP contract and, where it is silent, the order of checks in
`ticketing/services/` (seats.py, orders.py, payments.py, sales.py, organizer.py, refunds.py,
cancellation.py).

CI runs a bounded search; a long one (a few hundred runs of 50 steps on each database):

    FUZZ_LONG=1 .venv/bin/pytest -q tests/fuzz/test_state_machine.py
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from ticketing.clock import ManualClock
from ticketing.extensions import db
from ticketing.models import Payment, Refund, Seat, Ticket, format_price, iso
from ticketing.services.gateways import FakeGateway

FUZZ_LONG = os.environ.get("FUZZ_LONG", "") not in ("", "0")

HOLD_TTL = 60
CHECKOUT_TTL = 180
MAX_SEATS = 3
PRICE_CENTS = 2500
START = datetime(2030, 1, 1, 12, 0, 0)
STARTS_AT = START + timedelta(days=365)  # the event never starts during a run
MISSING_ID = 9_000_000_000  # a possible id that matches no row
# visa twice: more sales; tok_refundFails charges, and its order's refunds fail.
TOKENS = ("tok_visa", "tok_chargeDeclined", "tok_processingError", None, "tok_visa", "tok_refundFails")
OUTCOME_OF_TOKEN = {
    "tok_visa": "succeeded",
    "tok_chargeDeclined": "declined",
    "tok_processingError": "failed",
    "tok_refundFails": "succeeded",
}

MACHINE_SETTINGS = hypothesis_settings(
    max_examples=300 if FUZZ_LONG else 25,
    stateful_step_count=50 if FUZZ_LONG else 30,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the project; a failure prints its steps
    phases=[Phase.explicit, Phase.generate, Phase.shrink],  # no "explain": slow on a stateful run
    suppress_health_check=[HealthCheck.too_slow],  # each step is a few HTTP calls
)

AVAILABLE, LOCKED, BOOKED, BLOCKED = "available", "locked", "booked", "blocked"
DRAFT, ON_SALE, CLOSED, EVENT_CANCELLED = "draft", "on_sale", "closed", "cancelled"
LAYOUT = {
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
PENDING, PAID, PAYMENT_FAILED, CANCELLED, EXPIRED = "pending_payment", "paid", "payment_failed", "cancelled", "expired"
PARTIALLY_REFUNDED, REFUNDED = "partially_refunded", "refunded"
PAID_STATES = (PAID, PARTIALLY_REFUNDED, REFUNDED)


@dataclass
class SeatModel:
    """A seat as stored: `status` is what was last written (a lock whose time passed stays written)."""

    id: int
    label: str
    price_cents: int
    status: str = AVAILABLE
    holder: int | None = None  # user index; after booking, the buyer
    until: datetime | None = None
    order_id: int | None = None

    def state(self, now: datetime) -> str:
        if self.status == LOCKED and (self.until is None or self.until <= now):
            return AVAILABLE
        return self.status

    def take(self, holder: int, until: datetime, order_id: int | None = None) -> None:
        self.status, self.holder, self.until, self.order_id = LOCKED, holder, until, order_id

    def free(self) -> None:
        self.status, self.holder, self.until, self.order_id = AVAILABLE, None, None, None

    def book(self) -> None:
        self.status, self.until = BOOKED, None

    def block(self) -> None:
        self.status, self.holder, self.until, self.order_id = BLOCKED, None, None, None


@dataclass
class OrderModel:
    id: int
    user: int
    seat_ids: list[int]
    total_cents: int
    expires_at: datetime
    status: str = PENDING
    # Idempotency-Key -> outcome of the payment recorded under it: succeeded, declined or failed.
    keys: dict[str, str] = field(default_factory=dict)
    refunds_fail: bool = False  # paid with tok_refundFails
    void_seats: set[int] = field(default_factory=set)  # seats whose ticket was refunded
    refunded_cents: int = 0

    def state(self, now: datetime) -> str:
        return EXPIRED if self.status == PENDING and self.expires_at <= now else self.status


@dataclass(frozen=True)
class Expected:
    status: int
    code: str | None = None
    details: dict | None = None


def _clear_bookings(app) -> None:
    """Empty every table but the accounts, so the users (and their tokens) serve every run."""
    with app.app_context(), db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in ("users", "revoked_tokens"):
                connection.execute(table.delete())


class BookingMachine(RuleBasedStateMachine):
    """One run: a fresh event and clock; the app and its users are set by the test."""

    app = None
    users: list[dict] = []  # the buyers
    organizer: dict = {}  # owner of the event's organization (never buys)
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        _clear_bookings(self.app)
        self.clock = ManualClock(START)
        self.app.extensions["clock"] = self.clock
        self.client = self.app.test_client()
        self.event_id = self.make_draft()
        self.event_status = DRAFT
        self.sales_end: datetime | None = None
        with self.app.app_context():
            rows = db.session.execute(select(Seat.id, Seat.label, Seat.price_cents).order_by(Seat.id)).all()
            db.session.remove()
        self.seats = [SeatModel(id=id_, label=label, price_cents=price) for id_, label, price in rows]
        assert [seat.price_cents for seat in self.seats] == [PRICE_CENTS] * 3 + [0] * 3
        self.by_id = {seat.id: seat for seat in self.seats}
        self.model_orders: dict[int, OrderModel] = {}
        self.tickets: dict[int, tuple[int, int | None]] = {}  # seat id -> (user index, order id), valid ones
        self.void_tickets: list[tuple[int, int, int | None]] = []  # (seat id, user index, order id)
        self.keys = itertools.count(1)
        self.used_keys: list[str] = []

    def make_draft(self) -> int:
        """The organizer's organization, venue and draft event, made through the API."""
        headers = self.organizer["headers"]

        def made(path: str, body: dict, key: str) -> int:
            response = self.client.post(path, json=body, headers=headers)
            assert response.status_code == 201, response.get_json()
            return response.get_json()[key]["id"]

        organization_id = made("/organizations", {"name": "Fuzz"}, "organization")
        venue_id = made(f"/organizations/{organization_id}/venues", {"name": "Hall", "layout": LAYOUT}, "venue")
        event = {
            "name": "Fuzz",
            "venue_id": venue_id,
            "starts_at": iso(STARTS_AT),
            "currency": "EUR",
            "categories": [{"name": "Stalls", "price": format_price(PRICE_CENTS)}],
        }
        return made(f"/organizations/{organization_id}/events", event, "event")

    @initialize(publish=st.sampled_from([True, True, True, False]))
    def start(self, publish):
        """Most runs start on sale; some start as a draft (for a while, or for good)."""
        if publish:
            self.publish_or_close(by_organizer=True, action="publish")

    # -- helpers ---------------------------------------------------------------------------------

    def on_sale(self) -> bool:
        """The event sells now (on sale, before its sales end; it never starts during a run)."""
        return self.event_status == ON_SALE and (self.sales_end is None or self.now < self.sales_end)

    def not_selling(self) -> Expected | None:
        """What a buyer's hold or order gets before its seats are looked at, if the event refuses it."""
        if self.event_status == DRAFT:
            return Expected(404, "seat_not_found")  # a draft is missing to anyone outside its organization
        if not self.on_sale():
            return Expected(409, "event_not_on_sale")
        return None

    def organizer_refusal(self, by_organizer: bool) -> Expected | None:
        """A buyer trying an organizer's route: a draft is missing, an event buyers see is forbidden."""
        if by_organizer:
            return None
        return Expected(404, "event_not_found") if self.event_status == DRAFT else Expected(403, "forbidden")

    def viewer_headers(self, user: int) -> dict:
        """Whose eyes the invariants use for a buyer: the organizer's while the event is a draft."""
        return self.organizer["headers"] if self.event_status == DRAFT else self.headers(user)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def headers(self, user: int) -> dict:
        return self.users[user]["headers"]

    def target(self, user: int, position: int, as_holder: bool) -> tuple[int, SeatModel]:
        """The drawn user and seat or, when `as_holder`, a seat whose row is locked and the user it names."""
        if as_holder:
            held = [seat for seat in self.seats if seat.status == LOCKED]
            if held:
                seat = held[position % len(held)]
                return seat.holder, seat
        return user, self.seats[position]

    def live_holds(self, user: int) -> int:
        return sum(1 for seat in self.seats if seat.state(self.now) == LOCKED and seat.holder == user)

    def free_order_seats(self, order: OrderModel) -> None:
        for seat in self.seats:
            if seat.order_id == order.id and seat.status == LOCKED:
                seat.free()

    def check(self, response, expected: Expected, what: str) -> dict:
        body = response.get_json()
        assert body is not None, f"{what}: not JSON ({response.status_code})"
        got = (response.status_code, body.get("code") if response.status_code >= 400 else None)
        assert got == (expected.status, expected.code), f"{what}: expected {expected}, got {got}: {body}"
        if expected.details is not None:
            assert body.get("details") == expected.details, f"{what}: details {body.get('details')}"
        if response.status_code < 400:
            assert body.get("message"), f"{what}: a success carries a message: {body}"
        return body

    def check_seat_body(self, body: dict, seat: SeatModel, viewer: int) -> None:
        state = seat.state(self.now)
        assert body["id"] == seat.id and body["status"] == state, f"seat {seat.label}: {body} vs model {state}"
        assert body["price"] == format_price(seat.price_cents)
        mine = state == LOCKED and seat.holder == viewer
        if mine:
            assert body.get("locked_by_me") is True, f"seat {seat.label} held by user {viewer}: {body}"
            assert body.get("lock_expires_at") == iso(seat.until), f"seat {seat.label}: {body} until {seat.until}"
        else:
            assert "locked_by_me" not in body and "lock_expires_at" not in body, f"seat {seat.label}: {body}"

    def check_order_body(self, body: dict, order: OrderModel) -> None:
        assert body["id"] == order.id and body["status"] == order.state(self.now), f"{body} vs {order}"
        assert body["seat_ids"] == order.seat_ids and body["total"] == format_price(order.total_cents)
        assert body["expires_at"] == iso(order.expires_at)
        assert body["refunded_total"] == format_price(order.refunded_cents), f"{body} vs {order}"
        tickets = sorted(ticket["seat_id"] for ticket in body["tickets"])
        assert tickets == (order.seat_ids if order.status in PAID_STATES else []), f"order {order.id} {tickets}"
        void = sorted(ticket["seat_id"] for ticket in body["tickets"] if ticket["status"] == "void")
        assert void == sorted(order.void_seats), f"order {order.id}: void {void} vs {order.void_seats}"

    # -- rules -----------------------------------------------------------------------------------

    @rule(user=st.integers(0, 2), position=st.integers(0, 5), as_holder=st.booleans())
    def lock(self, user, position, as_holder):
        user, seat = self.target(user, position, as_holder)
        state = seat.state(self.now)
        if refused := self.not_selling():
            expected = refused
        elif state == BOOKED:
            expected = Expected(409, "seat_booked")
        elif state == BLOCKED:
            expected = Expected(409, "seat_blocked")
        elif state == LOCKED and seat.holder != user:
            expected = Expected(409, "seat_locked")
        elif state == LOCKED and seat.order_id is not None:
            expected = Expected(409, "seat_in_order")
        elif state == AVAILABLE and self.live_holds(user) >= MAX_SEATS:
            expected = Expected(409, "hold_limit_reached")
        else:
            expected = Expected(200)
        response = self.client.post(f"/seats/{seat.id}/lock", headers=self.headers(user))
        body = self.check(response, expected, f"user {user} locks {seat.label}")
        if expected.status == 200:
            seat.take(user, self.now + timedelta(seconds=HOLD_TTL))
            assert body["lock_expires_at"] == iso(seat.until)
            self.check_seat_body(body["seat"], seat, user)

    @rule(user=st.integers(0, 2), position=st.integers(0, 5), as_holder=st.booleans())
    def release(self, user, position, as_holder):
        user, seat = self.target(user, position, as_holder)
        if not (seat.state(self.now) == LOCKED and seat.holder == user):
            expected = Expected(409, "seat_not_locked")
        elif seat.order_id is not None:
            expected = Expected(409, "seat_in_order")
        else:
            expected = Expected(200)
        response = self.client.delete(f"/seats/{seat.id}/lock", headers=self.headers(user))
        body = self.check(response, expected, f"user {user} releases {seat.label}")
        if expected.status == 200:
            seat.free()
            self.check_seat_body(body["seat"], seat, user)

    @rule(user=st.integers(0, 2), position=st.integers(0, 5), as_holder=st.booleans())
    def confirm(self, user, position, as_holder):
        user, seat = self.target(user, position, as_holder)
        if seat.status == BOOKED:
            expected = Expected(409, "seat_booked")
        elif seat.status != LOCKED or seat.holder != user:
            expected = Expected(409, "seat_not_locked")
        elif seat.state(self.now) != LOCKED:
            expected = Expected(409, "lock_expired")
        elif seat.order_id is not None:
            expected = Expected(409, "seat_in_order")
        elif seat.price_cents > 0:
            expected = Expected(402, "payment_required")
        else:
            expected = Expected(200)
        response = self.client.post(f"/seats/{seat.id}/confirm", headers=self.headers(user))
        body = self.check(response, expected, f"user {user} confirms {seat.label}")
        if expected.status == 200:
            seat.book()
            self.tickets[seat.id] = (user, None)
            assert body["ticket"]["seat_id"] == seat.id and body["ticket"]["label"] == seat.label
            self.check_seat_body(body["seat"], seat, user)

    @rule(
        target=orders,
        user=st.integers(0, 2),
        positions=st.lists(st.integers(0, 5), min_size=1, max_size=4, unique=True),
    )
    def create_order(self, user, positions):
        chosen = sorted((self.seats[position] for position in positions), key=lambda seat: seat.id)
        now = self.now

        def welcome(seat: SeatModel) -> bool:
            state = seat.state(now)
            return state == AVAILABLE or (state == LOCKED and seat.holder == user and seat.order_id is None)

        blocked = [seat.id for seat in chosen if seat.status == BLOCKED]
        unavailable = [seat.id for seat in chosen if not welcome(seat)]
        already_mine = sum(1 for seat in chosen if seat.state(now) == LOCKED)
        if refused := self.not_selling():
            expected = refused
        elif blocked:
            expected = Expected(409, "seat_blocked", {"blocked": blocked})
        elif unavailable:
            expected = Expected(409, "seats_unavailable", {"unavailable": unavailable})
        elif self.live_holds(user) - already_mine + len(chosen) > MAX_SEATS:
            expected = Expected(409, "hold_limit_reached")
        else:
            expected = Expected(201)
        seat_ids = [self.seats[position].id for position in positions]  # in the order drawn
        response = self.client.post("/orders", json={"seat_ids": seat_ids}, headers=self.headers(user))
        labels = [seat.label for seat in chosen]
        body = self.check(response, expected, f"user {user} orders {labels}")
        if expected.status != 201:
            return multiple()
        order = OrderModel(
            id=body["order"]["id"],
            user=user,
            seat_ids=[seat.id for seat in chosen],
            total_cents=sum(seat.price_cents for seat in chosen),
            expires_at=now + timedelta(seconds=CHECKOUT_TTL),
        )
        assert order.id not in self.model_orders
        self.model_orders[order.id] = order
        for seat in chosen:
            seat.take(user, order.expires_at, order.id)
        self.check_order_body(body["order"], order)
        return order.id

    @rule(
        order_id=orders,
        by_owner=st.sampled_from([True, True, True, False]),
        token=st.sampled_from(TOKENS),
        key_choice=st.sampled_from(["none", "new", "replay", "replay_other"]),
        key_index=st.integers(0, 7),
    )
    def pay(self, order_id, by_owner, token, key_choice, key_index):
        order = self.model_orders[order_id]
        user = order.user if by_owner else (order.user + 1) % 3
        key = self.pick_key(order, key_choice, key_index)
        now = self.now
        previous = order.keys.get(key) if key is not None else None
        state = order.state(now)
        outcome = None  # a payment recorded by this request, and what the gateway said
        if user != order.user:
            expected = Expected(404, "order_not_found")
        elif previous is not None and previous != "failed":
            # The first answer again; nothing is charged or changed.
            expected = Expected(200) if previous == "succeeded" else Expected(402, "payment_declined")
        elif state == EXPIRED:
            expected = Expected(409, "order_expired")
        elif state != PENDING:
            expected = Expected(409, "order_not_payable")
        elif order.total_cents > 0 and token is None:
            expected = Expected(400, "validation_error")
        else:
            outcome = "succeeded" if order.total_cents == 0 else OUTCOME_OF_TOKEN[token]
            expected = {
                "succeeded": Expected(200),
                "declined": Expected(402, "payment_declined"),
                "failed": Expected(502, "payment_gateway_error"),
            }[outcome]
        headers = dict(self.headers(user))
        if key is not None:
            headers["Idempotency-Key"] = key
        payload = {} if token is None else {"payment_token": token}
        response = self.client.post(f"/orders/{order.id}/pay", json=payload, headers=headers)
        what = f"user {user} pays order {order.id} ({order.state(now)}) with {token}, key {key} ({previous})"
        body = self.check(response, expected, what)
        # The model follows the service: an expired order's seats are freed on the attempt.
        if user == order.user and expected.code == "order_expired" and order.status == PENDING:
            order.status = EXPIRED
            self.free_order_seats(order)
        if outcome is not None:
            if key is not None:
                order.keys[key] = outcome
            if outcome == "succeeded":
                for seat_id in order.seat_ids:
                    self.by_id[seat_id].book()
                    self.tickets[seat_id] = (order.user, order.id)
                order.status = PAID
                order.refunds_fail = token == "tok_refundFails" and order.total_cents > 0
            elif outcome == "declined":
                order.status = PAYMENT_FAILED
                self.free_order_seats(order)
        if response.status_code == 200:
            self.check_order_body(body["order"], order)

    @rule(
        target=orders,
        user=st.integers(0, 2),
        positions=st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True),
        token=st.sampled_from(TOKENS),
        key_choice=st.sampled_from(["none", "new"]),
    )
    def order_then_pay(self, user, positions, token, key_choice):
        """Checkout in one step (paying is rare otherwise: it needs a live order of one's own)."""
        order_id = self.create_order(user, positions)
        if not isinstance(order_id, int):
            return multiple()
        self.pay(order_id, by_owner=True, token=token, key_choice=key_choice, key_index=0)
        return order_id

    def pick_key(self, order: OrderModel, choice: str, index: int) -> str | None:
        if choice == "none":
            return None
        if choice == "replay" and order.keys:
            keys = list(order.keys)
            return keys[index % len(keys)]
        if choice == "replay_other" and self.used_keys:
            return self.used_keys[index % len(self.used_keys)]
        key = f"key-{next(self.keys)}"
        self.used_keys.append(key)
        return key

    @rule(order_id=orders, by_owner=st.sampled_from([True, True, True, False]))
    def cancel(self, order_id, by_owner):
        order = self.model_orders[order_id]
        user = order.user if by_owner else (order.user + 2) % 3
        if user != order.user:
            expected = Expected(404, "order_not_found")
        elif order.state(self.now) != PENDING:
            expected = Expected(409, "order_not_cancellable")
        else:
            expected = Expected(200)
        response = self.client.post(f"/orders/{order.id}/cancel", headers=self.headers(user))
        body = self.check(response, expected, f"user {user} cancels order {order.id} ({order.state(self.now)})")
        if expected.status == 200:
            order.status = CANCELLED
            self.free_order_seats(order)
            self.check_order_body(body["order"], order)

    @rule(
        positions=st.lists(st.integers(0, 5), min_size=1, max_size=4, unique=True),
        by_organizer=st.sampled_from([True, True, True, False]),
        user=st.integers(0, 2),
    )
    def block(self, positions, by_organizer, user):
        chosen = sorted((self.seats[position] for position in positions), key=lambda seat: seat.id)
        taken = [seat.id for seat in chosen if seat.state(self.now) in (LOCKED, BOOKED)]
        if refused := self.organizer_refusal(by_organizer):
            expected = refused
        elif taken:
            expected = Expected(409, "seats_unavailable", {"unavailable": taken})
        else:
            expected = Expected(200)
        headers = self.organizer["headers"] if by_organizer else self.headers(user)
        seat_ids = [self.seats[position].id for position in positions]
        response = self.client.post(
            f"/events/{self.event_id}/seats/block", json={"seat_ids": seat_ids}, headers=headers
        )
        body = self.check(response, expected, f"{'organizer' if by_organizer else f'user {user}'} blocks {seat_ids}")
        if expected.status == 200:
            assert body["blocked"] == sorted(seat_ids)
            for seat in chosen:
                seat.block()

    @rule(
        positions=st.lists(st.integers(0, 5), min_size=1, max_size=4, unique=True),
        by_organizer=st.sampled_from([True, True, True, False]),
        user=st.integers(0, 2),
    )
    def unblock(self, positions, by_organizer, user):
        chosen = sorted((self.seats[position] for position in positions), key=lambda seat: seat.id)
        expected = self.organizer_refusal(by_organizer) or Expected(200)
        headers = self.organizer["headers"] if by_organizer else self.headers(user)
        seat_ids = [self.seats[position].id for position in positions]
        response = self.client.post(
            f"/events/{self.event_id}/seats/unblock", json={"seat_ids": seat_ids}, headers=headers
        )
        body = self.check(response, expected, f"{'organizer' if by_organizer else f'user {user}'} unblocks {seat_ids}")
        if expected.status == 200:
            was_blocked = [seat for seat in chosen if seat.status == BLOCKED]
            assert body["unblocked"] == [seat.id for seat in was_blocked]
            for seat in was_blocked:
                seat.free()

    @rule(by_organizer=st.sampled_from([True, True, True, False]), action=st.sampled_from(["publish", "close"]))
    def publish_or_close(self, by_organizer, action):
        expected = self.organizer_refusal(by_organizer) or self.cancelled_refusal() or Expected(200)
        headers = self.organizer["headers"] if by_organizer else self.headers(0)
        response = self.client.post(f"/events/{self.event_id}/{action}", headers=headers)
        body = self.check(response, expected, f"{'organizer' if by_organizer else 'user 0'} {action}")
        if expected.status == 200:
            self.event_status = ON_SALE if action == "publish" else CLOSED
            assert body["event"]["status"] == self.event_status

    @rule(seconds=st.one_of(st.none(), st.integers(-30, 300)))
    def set_sales_end(self, seconds):
        """The organizer moves the end of sales (None: no end) relative to now; the clock may pass it."""
        sales_end = None if seconds is None else self.now + timedelta(seconds=seconds)
        body = {"sales_end": None if sales_end is None else iso(sales_end)}
        response = self.client.patch(f"/events/{self.event_id}", json=body, headers=self.organizer["headers"])
        expected = self.cancelled_refusal() or Expected(200)
        self.check(response, expected, f"organizer sets sales_end {sales_end}")
        if expected.status == 200:
            self.sales_end = sales_end

    def cancelled_refusal(self) -> Expected | None:
        return Expected(409, "event_cancelled") if self.event_status == EVENT_CANCELLED else None

    def void(self, order: OrderModel, seat_ids: list[int]) -> None:
        """The tickets of the seats become void and the seats go back on sale (a refund, a cancellation)."""
        for seat_id in seat_ids:
            user, order_id = self.tickets.pop(seat_id)
            self.void_tickets.append((seat_id, user, order_id))
            self.by_id[seat_id].free()
            if order is not None:
                order.void_seats.add(seat_id)
        if order is not None:
            order.refunded_cents += sum(self.by_id[seat_id].price_cents for seat_id in seat_ids)
            order.status = REFUNDED if order.void_seats == set(order.seat_ids) else PARTIALLY_REFUNDED

    def ticket_codes(self, order: OrderModel) -> dict[int, str]:
        with self.app.app_context():
            rows = db.session.execute(select(Ticket.seat_id, Ticket.code).where(Ticket.order_id == order.id)).all()
            db.session.remove()
        return dict(rows)

    @rule(
        order_id=orders,
        who=st.sampled_from(["organizer", "organizer", "buyer", "other"]),
        positions=st.one_of(st.none(), st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True)),
    )
    def refund(self, order_id, who, positions):
        """A refund of some of the order's tickets (positions in the order's seats), or of all (None)."""
        order = self.model_orders[order_id]
        user = {"organizer": None, "buyer": order.user, "other": (order.user + 1) % 3}[who]
        headers = self.organizer["headers"] if user is None else self.headers(user)
        codes = self.ticket_codes(order)
        seat_ids = None
        if positions is not None:
            seat_ids = sorted({order.seat_ids[p % len(order.seat_ids)] for p in positions})
        named = [seat_id for seat_id in seat_ids or [] if seat_id in codes]
        refundable = [seat_id for seat_id in order.seat_ids if seat_id in codes and seat_id not in order.void_seats]
        chosen = refundable if seat_ids is None else named
        amount = sum(self.by_id[seat_id].price_cents for seat_id in chosen)
        if who == "other":
            expected = Expected(404, "order_not_found")
        elif who == "buyer":
            expected = Expected(409, "order_not_refundable")  # the event takes no refunds from buyers
        elif order.status not in (PAID, PARTIALLY_REFUNDED):
            expected = Expected(409, "order_not_refundable")
        elif seat_ids is not None and any(seat_id in order.void_seats for seat_id in seat_ids):
            refused = [codes[seat_id] for seat_id in seat_ids if seat_id in order.void_seats]
            expected = Expected(409, "ticket_not_refundable", {"ticket_codes": refused})
        elif order.refunds_fail and amount > 0:
            expected = Expected(502, "payment_gateway_error")
        else:
            expected = Expected(200)
        # A seat of an order without tickets (never paid) is named by a code that is no ticket's.
        named_codes = [codes.get(seat_id, f"nosuchcode{seat_id}") for seat_id in seat_ids or []]
        body = {} if seat_ids is None else {"ticket_codes": named_codes}
        response = self.client.post(f"/orders/{order.id}/refund", json=body, headers=headers)
        answer = self.check(response, expected, f"{who} refunds {seat_ids or 'all'} of order {order.id} ({order})")
        if expected.status == 200:
            self.void(order, chosen)
            assert answer["refund"]["amount"] == format_price(amount)
            self.check_order_body(answer["order"], order)

    @rule(
        target=orders,
        user=st.integers(0, 2),
        positions=st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True),
        token=st.sampled_from(["tok_visa", "tok_visa", "tok_refundFails"]),
        who=st.sampled_from(["organizer", "organizer", "buyer", "other"]),
        refunded=st.one_of(st.none(), st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True)),
    )
    def buy_then_refund(self, user, positions, token, who, refunded):
        """A sale and a refund of it at once (refunds are rare otherwise: they need a paid order)."""
        order_id = self.order_then_pay(user, positions, token, "none")
        if not isinstance(order_id, int):
            return multiple()
        self.refund(order_id, who, refunded)
        return order_id

    @rule(
        by_organizer=st.sampled_from([True, True, False]),
        user=st.integers(0, 2),
        now=st.integers(0, 5),
    )
    def cancel_event(self, by_organizer, user, now):
        """The organizer cancels the event (a buyer is refused); a repeat changes nothing more. Drawn
        one time in six only (`now`): a cancelled event refuses most of what the other rules try."""
        if now != 0:
            return
        expected = self.organizer_refusal(by_organizer) or Expected(200)
        headers = self.organizer["headers"] if by_organizer else self.headers(user)
        response = self.client.post(f"/events/{self.event_id}/cancel", headers=headers)
        body = self.check(response, expected, f"{'organizer' if by_organizer else f'user {user}'} cancels the event")
        if expected.status != 200:
            return
        self.event_status = EVENT_CANCELLED
        for seat in self.seats:
            if seat.status == LOCKED and seat.order_id is None:
                seat.free()
        for order in self.model_orders.values():
            if order.status == PENDING:
                order.status = CANCELLED
                self.free_order_seats(order)
            elif order.status in (PAID, PARTIALLY_REFUNDED) and not order.refunds_fail:
                self.void(order, [seat_id for seat_id in order.seat_ids if seat_id not in order.void_seats])
        self.void(None, [seat_id for seat_id, (_user, order_id) in self.tickets.items() if order_id is None])
        refused = [
            order
            for order in self.model_orders.values()
            if order.refunds_fail and order.status in (PAID, PARTIALLY_REFUNDED)
        ]
        assert body["event"]["status"] == EVENT_CANCELLED and body["refunds_pending"] == len(refused), body

    @rule(
        seconds=st.one_of(
            st.integers(1, 20),
            st.sampled_from([HOLD_TTL - 1, HOLD_TTL, HOLD_TTL + 1, CHECKOUT_TTL - 1, CHECKOUT_TTL, CHECKOUT_TTL + 1]),
        )
    )
    def advance_clock(self, seconds):
        self.clock.advance(seconds)

    @rule(
        user=st.integers(0, 2),
        action=st.sampled_from(["lock", "release", "confirm", "order", "pay", "cancel", "get_order"]),
    )
    def touch_missing(self, user, action):
        """Ids that match nothing answer their resource's 404 and change nothing."""
        headers = self.headers(user)
        requests = {
            "lock": (lambda: self.client.post(f"/seats/{MISSING_ID}/lock", headers=headers), "seat_not_found"),
            "release": (lambda: self.client.delete(f"/seats/{MISSING_ID}/lock", headers=headers), "seat_not_found"),
            "confirm": (lambda: self.client.post(f"/seats/{MISSING_ID}/confirm", headers=headers), "seat_not_found"),
            "order": (
                lambda: self.client.post("/orders", json={"seat_ids": [self.seats[0].id, MISSING_ID]}, headers=headers),
                "seat_not_found",
            ),
            "pay": (
                lambda: self.client.post(
                    f"/orders/{MISSING_ID}/pay", json={"payment_token": "tok_visa"}, headers=headers
                ),
                "order_not_found",
            ),
            "cancel": (lambda: self.client.post(f"/orders/{MISSING_ID}/cancel", headers=headers), "order_not_found"),
            "get_order": (lambda: self.client.get(f"/orders/{MISSING_ID}", headers=headers), "order_not_found"),
        }
        send, code = requests[action]
        self.check(send(), Expected(404, code), f"user {user}: {action} on a missing id")

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def seat_maps_agree_with_the_model(self):
        for user in range(3):
            response = self.client.get(f"/events/{self.event_id}/seats", headers=self.headers(user))
            if self.event_status == DRAFT:  # buyers do not know a draft exists
                assert response.status_code == 404 and response.get_json()["code"] == "event_not_found"
                continue
            assert response.status_code == 200
            listed = response.get_json()["seats"]
            assert [seat["id"] for seat in listed] == [seat.id for seat in self.seats]
            for body, seat in zip(listed, self.seats, strict=True):
                self.check_seat_body(body, seat, user)

    @invariant()
    def status_filters_partition_the_seats(self):
        anonymous_sees = self.event_status != DRAFT
        for status in (AVAILABLE, LOCKED, BOOKED, BLOCKED):
            expected = [seat.id for seat in self.seats if seat.state(self.now) == status]
            for headers in ({}, self.organizer["headers"]):
                response = self.client.get(f"/seats?event_id={self.event_id}&status={status}", headers=headers)
                listed = [seat["id"] for seat in response.get_json()["seats"]]
                shown = expected if (headers or anonymous_sees) else []
                assert listed == shown, f"status={status}: {listed} vs model {shown}"

    @invariant()
    def event_counts_add_up(self):
        response = self.client.get(f"/events/{self.event_id}", headers=self.viewer_headers(0))
        event = response.get_json()["event"]
        states = [seat.state(self.now) for seat in self.seats]
        assert event["status"] == self.event_status and event["seat_count"] == len(self.seats)
        assert event["available"] + event["locked"] + event["booked"] + event["blocked"] == event["seat_count"]
        assert (event["available"], event["locked"], event["booked"], event["blocked"]) == (
            states.count(AVAILABLE),
            states.count(LOCKED),
            states.count(BOOKED),
            states.count(BLOCKED),
        ), event

    @invariant()
    def one_ticket_per_booked_seat_and_per_paid_seat(self):
        with self.app.app_context():
            rows = db.session.execute(select(Ticket.seat_id, Ticket.user_id, Ticket.order_id, Ticket.status)).all()
            db.session.remove()
        valid = [row for row in rows if row.status == "valid"]
        seat_ids = [row.seat_id for row in valid]
        assert len(seat_ids) == len(set(seat_ids)), f"a seat has two valid tickets: {sorted(seat_ids)}"
        user_ids = {user["id"]: index for index, user in enumerate(self.users)}
        found = {row.seat_id: (user_ids[row.user_id], row.order_id) for row in valid}
        assert found == self.tickets
        void = sorted((row.seat_id, user_ids[row.user_id], row.order_id) for row in rows if row.status == "void")
        assert void == sorted(self.void_tickets, key=lambda t: (t[0], t[1], t[2] or 0))
        for order in self.model_orders.values():
            issued = sorted(row.seat_id for row in rows if row.order_id == order.id)
            assert issued == (order.seat_ids if order.status in PAID_STATES else []), f"order {order.id}: {issued}"

    @invariant()
    def money_in_is_money_kept_plus_money_refunded(self):
        """Per order: what the gateway charged = the price of its valid tickets + what went back."""
        with self.app.app_context():
            charged = db.session.execute(select(Payment.order_id, Payment.status, Payment.amount_cents)).all()
            refunds = db.session.execute(select(Refund.order_id, Refund.status, Refund.amount_cents)).all()
            db.session.remove()
        assert {status for _order, status, _amount in refunds} <= {"succeeded", "failed"}
        for order in self.model_orders.values():
            money_in = sum(a for o, status, a in charged if o == order.id and status in ("succeeded", "refunded"))
            given_back = sum(a for o, status, a in refunds if o == order.id and status == "succeeded")
            given_back += sum(a for o, status, a in charged if o == order.id and status == "refunded")
            kept = sum(
                self.by_id[seat_id].price_cents
                for seat_id, (_user, order_id) in self.tickets.items()
                if order_id == order.id
            )
            assert money_in == kept + given_back, f"order {order.id}: in {money_in}, kept {kept}, back {given_back}"
            assert given_back == order.refunded_cents, f"order {order.id}: {given_back} vs {order}"

    @invariant()
    def orders_read_as_the_model(self):
        for user in sorted({order.user for order in self.model_orders.values()}):
            listed = self.client.get("/orders", headers=self.headers(user)).get_json()["orders"]
            mine = sorted((order for order in self.model_orders.values() if order.user == user), key=lambda o: -o.id)
            assert [order["id"] for order in listed] == [order.id for order in mine]
            for body, order in zip(listed, mine, strict=True):
                self.check_order_body(body, order)


@pytest.fixture
def settings():
    """The app's settings for this module (overrides the conftest fixture): a clock the test moves."""
    return {
        "CLOCK": ManualClock(START),
        "HOLD_TTL_SECONDS": HOLD_TTL,
        "CHECKOUT_TTL_SECONDS": CHECKOUT_TTL,
        "MAX_SEATS_PER_USER": MAX_SEATS,
        "PAYMENT_GATEWAY": FakeGateway(),
    }


def test_booking_state_machine(app, api):
    """Runs on SQLite and PostgreSQL (through the `app` fixture's `database_url`)."""
    users = [api.user() for _ in range(3)]
    machine = type("BookingRun", (BookingMachine,), {"app": app, "users": users, "organizer": api.user()})
    run_state_machine_as_test(machine, settings=MACHINE_SETTINGS)
