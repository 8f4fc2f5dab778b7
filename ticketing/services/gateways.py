"""Payment gateways behind one interface, chosen by PAYMENT_PROVIDER."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

SUCCEEDED, DECLINED, FAILED = "succeeded", "declined", "failed"


@dataclass(frozen=True)
class ChargeOutcome:
    """What the gateway said of a charge: succeeded, declined (card refused) or failed (not processed)."""

    status: str
    charge_id: str | None = None
    message: str = ""


class PaymentGateway(Protocol):
    """A card processor. `reference` is its idempotency key: the same reference never charges twice."""

    name: str

    def charge(self, *, reference: str, amount_cents: int, currency: str, token: str) -> ChargeOutcome: ...

    def find_charge(self, *, reference: str, token: str | None) -> ChargeOutcome | None:
        """What became of the charge made with `reference`, or None if the gateway never saw it."""
        ...

    def refund(self, *, charge_id: str, amount_cents: int) -> None: ...


class FakeGateway:
    """The built-in test gateway: the outcome follows the token, like card networks' test cards.

    `tok_visa` succeeds, `tok_chargeDeclined` is declined, `tok_processingError` is a gateway
    failure; any other token is declined as unknown. It keeps no state: the outcome of a reference
    is a function of its token, which is how a real gateway's idempotent replay looks from here.
    """

    name = "fake"
    _OUTCOMES = {
        "tok_visa": ChargeOutcome(SUCCEEDED, message="Approved"),
        "tok_chargeDeclined": ChargeOutcome(DECLINED, message="Your card was declined."),
        "tok_processingError": ChargeOutcome(FAILED, message="The card processor had an error."),
    }

    def charge(self, *, reference: str, amount_cents: int, currency: str, token: str) -> ChargeOutcome:
        outcome = self._OUTCOMES.get(token, ChargeOutcome(DECLINED, message="Unknown payment token."))
        if outcome.status == SUCCEEDED:
            return ChargeOutcome(SUCCEEDED, charge_id=f"ch_fake_{reference}", message=outcome.message)
        return outcome

    def find_charge(self, *, reference: str, token: str | None) -> ChargeOutcome | None:
        if token is None:
            return None
        return self.charge(reference=reference, amount_cents=0, currency="", token=token)

    def refund(self, *, charge_id: str, amount_cents: int) -> None:
        return None


_GATEWAYS = {"fake": FakeGateway}


def make_gateway(provider: str) -> PaymentGateway:
    """The gateway named by PAYMENT_PROVIDER."""
    try:
        return _GATEWAYS[provider]()
    except KeyError:
        raise ValueError(f"PAYMENT_PROVIDER must be one of {', '.join(_GATEWAYS)}, got {provider!r}") from None
