"""StripeGateway against a tiny local Stripe-style server (no network): requests, idempotency, errors."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ticketing.services.gateways import (
    DECLINED,
    FAILED,
    SUCCEEDED,
    ChargeOutcome,
    GatewayError,
    StripeGateway,
    make_gateway,
)

API_KEY = "sk_test_local"


class FakeStripe:
    """Charges, a search by metadata and refunds, with Stripe's idempotent replays.

    Tokens pick the answer: tok_visa succeeds, tok_chargeDeclined is a 402 card error,
    tok_pending stays pending, tok_missing is an unknown token; `status_override` forces an
    HTTP status (a 5xx, a 409, a 401) for the next requests.
    """

    def __init__(self) -> None:
        self.requests: list[dict] = []  # method, path, headers, form
        self.charges: dict[str, dict] = {}  # by id
        self.replays: dict[str, tuple[int, dict]] = {}  # idempotency key -> first answer
        self.refunded: set[str] = set()
        self.status_override: int | None = None

    def answer(self, method: str, path: str, headers: dict, form: dict, query: dict) -> tuple[int, dict]:
        self.requests.append({"method": method, "path": path, "headers": headers, "form": form, "query": query})
        if headers.get("Authorization") != f"Bearer {API_KEY}":
            return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}
        if self.status_override is not None:
            return self.status_override, {"error": {"type": "api_error", "message": "Something broke."}}
        key = headers.get("Idempotency-Key")
        if method == "POST" and key in self.replays:
            return self.replays[key]
        if (method, path) == ("POST", "/v1/charges"):
            answer = self._charge(form)
        elif (method, path) == ("GET", "/v1/charges/search"):
            reference = query["query"].split(":", 1)[1].strip("'")
            found = [c for c in self.charges.values() if c["metadata"]["reference"] == reference]
            answer = 200, {"object": "search_result", "data": found[:1]}
        elif (method, path) == ("POST", "/v1/refunds"):
            answer = self._refund(form)
        else:
            answer = 404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL."}}
        if method == "POST" and key:
            self.replays[key] = answer
        return answer

    def _charge(self, form: dict) -> tuple[int, dict]:
        token = form["source"]
        if token == "tok_missing":
            error = {"type": "invalid_request_error", "code": "resource_missing", "param": "source"}
            return 400, {"error": {**error, "message": f"No such token: '{token}'"}}
        charge_id = f"ch_{len(self.charges) + 1}"
        status = {"tok_visa": "succeeded", "tok_chargeDeclined": "failed", "tok_pending": "pending"}[token]
        self.charges[charge_id] = {
            "id": charge_id,
            "object": "charge",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "status": status,
            "failure_message": "Your card was declined." if status == "failed" else None,
            "metadata": {"reference": form["metadata[reference]"]},
        }
        if status == "failed":
            error = {"type": "card_error", "code": "card_declined", "charge": charge_id}
            return 402, {"error": {**error, "message": "Your card was declined."}}
        return 200, self.charges[charge_id]

    def _refund(self, form: dict) -> tuple[int, dict]:
        if form["charge"] in self.refunded:
            error = {"type": "invalid_request_error", "code": "charge_already_refunded"}
            return 400, {"error": {**error, "message": "Charge has already been refunded."}}
        if form["charge"] not in self.charges:
            error = {"type": "invalid_request_error", "code": "resource_missing", "param": "charge"}
            return 400, {"error": {**error, "message": "No such charge."}}
        self.refunded.add(form["charge"])
        return 200, {"id": f"re_{len(self.refunded)}", "object": "refund", "status": "succeeded"}


@pytest.fixture
def stripe() -> Iterator[tuple[FakeStripe, str]]:
    """The fake Stripe on a free port of 127.0.0.1, and its base URL."""
    fake = FakeStripe()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode())) if length else {}
            query = dict(urllib.parse.parse_qsl(url.query))
            status, body = fake.answer(self.command, url.path, dict(self.headers), form, query)
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _serve  # noqa: N815 - http.server's names

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def gateway(base: str, key: str = API_KEY) -> StripeGateway:
    return make_gateway("stripe", {"STRIPE_API_KEY": key, "STRIPE_API_BASE": base})


def test_a_charge_sends_the_reference_as_idempotency_key_and_a_replay_charges_once(stripe):
    fake, base = stripe
    first = gateway(base).charge(reference="payment-7-1", amount_cents=2500, currency="EUR", token="tok_visa")
    again = gateway(base).charge(reference="payment-7-1", amount_cents=2500, currency="EUR", token="tok_visa")
    assert first == again == ChargeOutcome(SUCCEEDED, charge_id="ch_1", message="Approved")
    assert len(fake.charges) == 1
    sent = fake.requests[0]
    assert sent["headers"]["Idempotency-Key"] == "payment-7-1"
    assert sent["form"] == {
        "amount": "2500",
        "currency": "eur",
        "source": "tok_visa",
        "description": "payment-7-1",
        "metadata[reference]": "payment-7-1",
    }


def test_a_card_error_is_a_decline_with_the_gateways_message(stripe):
    _fake, base = stripe
    outcome = gateway(base).charge(
        reference="payment-1-1", amount_cents=100, currency="USD", token="tok_chargeDeclined"
    )
    assert outcome == ChargeOutcome(DECLINED, charge_id="ch_1", message="Your card was declined.")


def test_an_unknown_token_is_a_decline(stripe):
    _fake, base = stripe
    outcome = gateway(base).charge(reference="payment-1-1", amount_cents=100, currency="USD", token="tok_missing")
    assert outcome == ChargeOutcome(DECLINED, message="Unknown payment token.")


def test_a_refused_key_is_a_failure_nothing_charged(stripe):
    fake, base = stripe
    outcome = gateway(base, key="sk_wrong").charge(reference="p", amount_cents=100, currency="USD", token="tok_visa")
    assert outcome.status == FAILED and not fake.charges


@pytest.mark.parametrize("status", [500, 503, 409])
def test_an_answer_that_may_have_charged_raises(stripe, status):
    fake, base = stripe
    fake.status_override = status
    with pytest.raises(GatewayError):
        gateway(base).charge(reference="payment-1-1", amount_cents=100, currency="USD", token="tok_visa")


def test_no_answer_raises():
    with pytest.raises(GatewayError, match="no answer"):
        gateway("http://127.0.0.1:9").charge(reference="p", amount_cents=1, currency="USD", token="tok_visa")


def test_a_pending_charge_raises_until_it_settles(stripe):
    _fake, base = stripe
    with pytest.raises(GatewayError, match="pending"):
        gateway(base).charge(reference="payment-1-1", amount_cents=100, currency="USD", token="tok_pending")


def test_find_charge_finds_by_reference_and_never_charges(stripe):
    fake, base = stripe
    assert gateway(base).find_charge(reference="payment-3-1", token="tok_visa") is None
    gateway(base).charge(reference="payment-3-1", amount_cents=100, currency="USD", token="tok_visa")
    gateway(base).charge(reference="payment-4-1", amount_cents=100, currency="USD", token="tok_chargeDeclined")
    assert gateway(base).find_charge(reference="payment-3-1", token="tok_visa") == ChargeOutcome(
        SUCCEEDED, charge_id="ch_1", message="Approved"
    )
    assert gateway(base).find_charge(reference="payment-4-1", token=None).status == DECLINED
    assert len(fake.charges) == 2
    searches = [r for r in fake.requests if r["path"] == "/v1/charges/search"]
    assert searches[0]["query"]["query"] == "metadata['reference']:'payment-3-1'"
    assert "Idempotency-Key" not in searches[0]["headers"]


def test_find_charge_raises_rather_than_answer_never_seen_when_unsure(stripe):
    fake, base = stripe
    fake.status_override = 500
    with pytest.raises(GatewayError):
        gateway(base).find_charge(reference="payment-3-1", token="tok_visa")


def test_a_refund_is_idempotent_by_reference(stripe):
    fake, base = stripe
    gateway(base).charge(reference="payment-5-1", amount_cents=900, currency="USD", token="tok_visa")
    gateway(base).refund(charge_id="ch_1", amount_cents=900, reference="refund-payment-5-1")
    gateway(base).refund(charge_id="ch_1", amount_cents=900, reference="refund-payment-5-1")  # replayed
    gateway(base).refund(charge_id="ch_1", amount_cents=900)  # another key: "already refunded" is done
    refunds = [r for r in fake.requests if r["path"] == "/v1/refunds"]
    assert [r["headers"]["Idempotency-Key"] for r in refunds] == ["refund-payment-5-1"] * 2 + ["refund-ch_1"]
    assert refunds[0]["form"] == {"charge": "ch_1", "amount": "900"}
    assert fake.refunded == {"ch_1"}


def test_a_refund_that_did_not_happen_raises(stripe):
    _fake, base = stripe
    with pytest.raises(GatewayError, match="No such charge"):
        gateway(base).refund(charge_id="ch_404", amount_cents=100)


def test_without_a_key_nothing_is_sent(stripe):
    fake, base = stripe
    with pytest.raises(GatewayError, match="STRIPE_API_KEY"):
        gateway(base, key="").charge(reference="p", amount_cents=1, currency="USD", token="tok_visa")
    assert not fake.requests
