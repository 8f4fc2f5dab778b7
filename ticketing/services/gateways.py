"""Payment gateways behind one interface, chosen by PAYMENT_PROVIDER.

A gateway is one class with `charge`, `find_charge` and `refund` (the `PaymentGateway` protocol
below says what each must guarantee; docs/payments.md says it for people). `FakeGateway` is the
built-in test gateway; `StripeGateway` talks to a Stripe-style HTTP API. Adding a provider is one
class here, its name in `_GATEWAYS` and in config.PAYMENT_PROVIDERS (a test keeps them in step).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

SUCCEEDED, DECLINED, FAILED = "succeeded", "declined", "failed"


@dataclass(frozen=True)
class ChargeOutcome:
    """What the gateway said of a charge: succeeded, declined (card refused) or failed (not processed)."""

    status: str
    charge_id: str | None = None
    message: str = ""


class GatewayError(RuntimeError):
    """The gateway's answer does not say whether money moved (no answer, a 5xx, a charge still pending).

    Raised, never returned: the payment stays `processing` and is settled later from `find_charge`.
    """


class PaymentGateway(Protocol):
    """A card processor. What each method must guarantee (services/payments.py relies on it):

    - `charge`: `reference` is the idempotency key. The same reference never charges twice, and
      asking again with it answers the first charge's outcome. Returns SUCCEEDED (with the
      gateway's `charge_id`), DECLINED (the card was refused: nothing charged, final) or FAILED
      (the gateway did not process it: nothing charged, the buyer may try again). When it cannot
      know whether money moved (timeout, 5xx), it raises instead of guessing.
    - `find_charge`: what became of the charge made with `reference`, without charging anything;
      None only when the gateway never saw that reference (then the payment is abandoned and the
      order may be paid again, so None must never stand for "not sure": raise instead).
    - `refund`: give back `amount_cents` of `charge_id`. Idempotent by `reference` (a refund
      repeated with the same reference refunds once); when no reference is given the gateway uses
      `refund-<charge_id>` (one full refund per charge, which is all the service asks for today).
      A charge already refunded counts as done. Raises when the refund did not happen (it is retried).
    """

    name: str
    # (token, label) pairs the page offers as test cards; empty for a gateway that charges real cards.
    test_cards: tuple[tuple[str, str], ...]

    def charge(self, *, reference: str, amount_cents: int, currency: str, token: str) -> ChargeOutcome: ...

    def find_charge(self, *, reference: str, token: str | None) -> ChargeOutcome | None: ...

    def refund(self, *, charge_id: str, amount_cents: int, reference: str | None = None) -> None: ...


def refund_reference(charge_id: str, reference: str | None) -> str:
    """The idempotency key of a refund: the caller's, else one per charge."""
    return reference or f"refund-{charge_id}"


class FakeGateway:
    """The built-in test gateway: the outcome follows the token, like card networks' test cards.

    `tok_visa` succeeds, `tok_chargeDeclined` is declined, `tok_processingError` is a gateway
    failure, `tok_answerLost` charges but the answer never arrives (the call raises, as when the
    network or the process fails right after the charge; asking about it later finds the charge);
    `tok_refundFails` charges, and every refund of that charge fails (the gateway refuses it);
    any other token is declined as unknown. It keeps no state: the outcome of a reference
    is a function of its token, which is how a real gateway's idempotent replay looks from here.
    It takes no money: production refuses it unless ALLOW_TEST_PAYMENTS=1 (config.start_refusals).
    """

    name = "fake"
    test_cards = (
        ("tok_visa", "Visa test card (payment succeeds)"),
        ("tok_chargeDeclined", "Declined test card"),
        ("tok_processingError", "Test card with a gateway error"),
        ("tok_refundFails", "Test card whose refunds fail"),
    )
    _OUTCOMES = {
        "tok_visa": ChargeOutcome(SUCCEEDED, message="Approved"),
        "tok_chargeDeclined": ChargeOutcome(DECLINED, message="Your card was declined."),
        "tok_processingError": ChargeOutcome(FAILED, message="The card processor had an error."),
        "tok_refundFails": ChargeOutcome(SUCCEEDED, message="Approved"),
    }
    # The charge id of a `tok_refundFails` charge says so, since `refund` only sees the charge id.
    _REFUND_FAILS = "refundFails"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FakeGateway:
        """The fake gateway has no settings."""
        return cls()

    _ANSWER_LOST = "tok_answerLost"

    def charge(self, *, reference: str, amount_cents: int, currency: str, token: str) -> ChargeOutcome:
        """The outcome of the test card `token` (a new charge id for a success)."""
        if token == self._ANSWER_LOST:
            raise ConnectionError("tok_answerLost: the card was charged, but the answer was lost")
        outcome = self._OUTCOMES.get(token, ChargeOutcome(DECLINED, message="Unknown payment token."))
        if outcome.status == SUCCEEDED:
            marker = f"{self._REFUND_FAILS}_" if token == "tok_refundFails" else ""
            return ChargeOutcome(SUCCEEDED, charge_id=f"ch_fake_{marker}{reference}", message=outcome.message)
        return outcome

    def find_charge(self, *, reference: str, token: str | None) -> ChargeOutcome | None:
        """What `charge` answered for this reference and token."""
        if token is None:
            return None
        if token == self._ANSWER_LOST:
            return ChargeOutcome(SUCCEEDED, charge_id=f"ch_fake_{reference}", message="Approved")
        return self.charge(reference=reference, amount_cents=0, currency="", token=token)

    def refund(self, *, charge_id: str, amount_cents: int, reference: str | None = None) -> None:
        """Nothing was taken, so nothing goes back; a `tok_refundFails` charge's refund is refused."""
        if self._REFUND_FAILS in charge_id:
            raise GatewayError(f"tok_refundFails: the gateway refused to refund {charge_id}")
        return None


class StripeGateway:
    """A Stripe-style HTTP API: charges, a search by our reference, refunds.

    `POST {api_base}/v1/charges` (form fields `amount`, `currency`, `source` = the card token,
    `metadata[reference]`) with our reference as the `Idempotency-Key` header, so a retried charge
    is answered from the gateway's record of the first. `find_charge` searches charges by
    `metadata['reference']` (`GET /v1/charges/search`), which never charges; `refund` is
    `POST /v1/refunds` with its own idempotency key. Answers map as follows: a charge `succeeded`
    -> SUCCEEDED; a `failed` charge or a 402 card error -> DECLINED with the gateway's message; a
    400 naming the token (`resource_missing` on `source`) -> DECLINED; another 4xx (bad key, bad
    request, rate limited) -> FAILED, since the gateway processed nothing; a 409 (the same key
    still in flight), a 5xx, no answer, or a charge still `pending` -> GatewayError.
    """

    name = "stripe"
    test_cards: tuple[tuple[str, str], ...] = ()
    IDEMPOTENCY_HEADER = "Idempotency-Key"

    def __init__(self, *, api_key: str | None, api_base: str = "https://api.stripe.com", timeout: float = 15.0):
        self.api_key = api_key
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripeGateway:
        """From STRIPE_API_KEY and STRIPE_API_BASE."""
        return cls(
            api_key=config.get("STRIPE_API_KEY"), api_base=config.get("STRIPE_API_BASE") or "https://api.stripe.com"
        )

    # --- the interface -------------------------------------------------------------------------

    def charge(self, *, reference: str, amount_cents: int, currency: str, token: str) -> ChargeOutcome:
        """Charge the card `token`; the reference is the idempotency key."""
        form = {
            "amount": str(amount_cents),
            "currency": currency.lower(),
            "source": token,
            "description": reference,
            "metadata[reference]": reference,
        }
        status, body = self._request("POST", "/v1/charges", form=form, idempotency_key=reference)
        if status == 200:
            return self._outcome_of(body)
        return self._refusal(status, body)

    def find_charge(self, *, reference: str, token: str | None) -> ChargeOutcome | None:
        """The charge made with `reference`, found by its metadata; None when there is none."""
        query = {"query": f"metadata['reference']:'{reference}'", "limit": "1"}
        status, body = self._request("GET", "/v1/charges/search", query=query)
        if status != 200:
            raise GatewayError(f"the gateway answered {status} to a charge search: {_error_message(body)}")
        found = body.get("data") or []
        return self._outcome_of(found[0]) if found else None

    def refund(self, *, charge_id: str, amount_cents: int, reference: str | None = None) -> None:
        """Refund `amount_cents` of the charge, once per reference."""
        form = {"charge": charge_id, "amount": str(amount_cents)}
        key = refund_reference(charge_id, reference)
        status, body = self._request("POST", "/v1/refunds", form=form, idempotency_key=key)
        if status == 200:
            return
        if _error(body).get("code") == "charge_already_refunded":
            return  # an earlier attempt did it
        raise GatewayError(f"the gateway answered {status} to a refund: {_error_message(body)}")

    # --- answers ---------------------------------------------------------------------------------

    @staticmethod
    def _outcome_of(charge: Mapping[str, Any]) -> ChargeOutcome:
        status = charge.get("status")
        if status == "succeeded":
            return ChargeOutcome(SUCCEEDED, charge_id=charge.get("id"), message="Approved")
        if status == "failed":
            message = charge.get("failure_message") or "Your card was declined."
            return ChargeOutcome(DECLINED, charge_id=charge.get("id"), message=message)
        # `pending` (or anything new): money may still move, so no outcome can be recorded yet.
        raise GatewayError(f"charge {charge.get('id')} is {status!r}, not settled")

    @staticmethod
    def _refusal(status: int, body: Mapping[str, Any]) -> ChargeOutcome:
        error = _error(body)
        message = _error_message(body)
        if status == 402 or error.get("type") == "card_error":
            return ChargeOutcome(DECLINED, charge_id=error.get("charge"), message=message)
        if status == 400 and error.get("code") == "resource_missing" and error.get("param") == "source":
            return ChargeOutcome(DECLINED, message="Unknown payment token.")
        if status == 409:  # the same key is still being processed: its outcome is not known yet
            raise GatewayError(f"the gateway answered 409: {message}")
        # 400 (our request), 401/403 (the key), 404, 429 (rate limited): nothing was processed.
        log.error("payment gateway refused the request", extra={"http_status": status, "gateway_message": message})
        return ChargeOutcome(FAILED, message="The payment gateway could not process the payment.")

    # --- HTTP ----------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        form: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """One call: (HTTP status, JSON body); GatewayError when there is no usable answer."""
        if not self.api_key:
            raise GatewayError("STRIPE_API_KEY is not set")
        url = self.api_base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.api_key}")
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        if idempotency_key is not None:
            request.add_header(self.IDEMPOTENCY_HEADER, idempotency_key)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except (OSError, ValueError) as error:  # refused, reset, timed out, a bad URL
            raise GatewayError(f"no answer from the payment gateway: {error}") from error
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        if status >= 500 or not isinstance(body, dict):  # a 5xx may have charged: not a refusal
            raise GatewayError(f"the gateway answered {status}")
        return status, body


def _error(body: Mapping[str, Any]) -> Mapping[str, Any]:
    error = body.get("error")
    return error if isinstance(error, dict) else {}


def _error_message(body: Mapping[str, Any]) -> str:
    return str(_error(body).get("message") or "no message")


_GATEWAYS = {"fake": FakeGateway, "stripe": StripeGateway}


def make_gateway(provider: str, config: Mapping[str, Any] | None = None) -> PaymentGateway:
    """The gateway named by PAYMENT_PROVIDER, built from the app's settings."""
    try:
        gateway_class = _GATEWAYS[provider]
    except KeyError:
        raise ValueError(f"PAYMENT_PROVIDER must be one of {', '.join(_GATEWAYS)}, got {provider!r}") from None
    return gateway_class.from_config(config or {})
