"""The page offers test cards only when the test gateway is on."""

from __future__ import annotations

import pytest


def test_the_test_gateway_offers_its_test_cards(client):
    page = client.get("/").get_data(as_text=True)
    assert "Pay with a test card" in page
    assert 'value="tok_visa" checked' in page and 'value="tok_chargeDeclined"' in page
    assert 'id="card-token"' not in page


@pytest.mark.parametrize("settings", [{"PAYMENT_PROVIDER": "stripe", "STRIPE_API_KEY": "sk_test_page"}])
def test_a_real_gateway_shows_no_test_cards(client, settings):
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert "test card" not in page.lower() and "tok_" not in page
    assert 'id="card-token"' in page and "Pay by card" in page
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]
