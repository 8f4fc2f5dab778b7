"""Small values shared by tests."""

from __future__ import annotations

from ticketing.services.ledger import HoldLimits

# The default limits for a caller with no known address (services called directly, as commands do).
TEST_LIMITS = HoldLimits(per_user=10, per_address=40, address=None)
