"""The hold limits that apply to this request: per user, and per client address."""

from __future__ import annotations

from flask import current_app, request

from ..services.ledger import HoldLimits


def hold_limits() -> HoldLimits:
    """MAX_SEATS_PER_USER and MAX_HOLDS_PER_ADDRESS for the request's client address (ProxyFix has
    already put the real client's address there when PROXY_COUNT is set)."""
    return HoldLimits(
        per_user=current_app.config["MAX_SEATS_PER_USER"],
        per_address=current_app.config["MAX_HOLDS_PER_ADDRESS"],
        address=request.remote_addr,
    )
