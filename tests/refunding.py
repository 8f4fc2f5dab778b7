"""What the refund tests share: a gateway that remembers refunds, and buying through the API."""

from __future__ import annotations

import threading

from ticketing.services.gateways import FakeGateway, GatewayError


class RecordingGateway(FakeGateway):
    """The test gateway, plus a record of the money it gave back: one entry per refund reference
    (a reference asked again refunds nothing more, as a real gateway's idempotency key does).
    `fail_refunds` makes the next N refunds fail (nothing refunded)."""

    def __init__(self) -> None:
        self.refunds: dict[str, int] = {}
        self.calls = 0
        self.fail_refunds = 0
        self._lock = threading.Lock()

    def refund(self, *, charge_id: str, amount_cents: int, reference: str | None = None) -> None:
        super().refund(charge_id=charge_id, amount_cents=amount_cents, reference=reference)
        with self._lock:
            self.calls += 1
            if self.fail_refunds:
                self.fail_refunds -= 1
                raise GatewayError("the test gateway refused this refund")
            self.refunds.setdefault(reference or f"refund-{charge_id}", amount_cents)

    @property
    def refunded_cents(self) -> int:
        return sum(self.refunds.values())


def buy(client, buyer: dict, seat_ids: list[int], token: str = "tok_visa") -> dict:
    """A paid order of the seats (its JSON)."""
    created = client.post("/orders", json={"seat_ids": seat_ids}, headers=buyer["headers"])
    assert created.status_code == 201, created.get_json()
    order_id = created.get_json()["order"]["id"]
    paid = client.post(f"/orders/{order_id}/pay", json={"payment_token": token}, headers=buyer["headers"])
    assert paid.status_code == 200, paid.get_json()
    return paid.get_json()["order"]


def refund(client, who: dict, order_id: int, key: str | None = None, **body):
    headers = dict(who["headers"], **({"Idempotency-Key": key} if key else {}))
    return client.post(f"/orders/{order_id}/refund", json=body, headers=headers)
