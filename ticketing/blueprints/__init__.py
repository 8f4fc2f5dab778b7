"""Routes only: URL, method, auth, schema in and out, one controller call."""

from __future__ import annotations

from flask_smorest import Api

from . import aliases, auth, checkins, events, health, orders, organizations, organizer, reports, seats, tickets, venues


def register_blueprints(api: Api) -> None:
    """Register every blueprint on the app behind `api`."""
    for module in (
        health,
        auth,
        events,
        seats,
        aliases,
        orders,
        tickets,
        organizations,
        venues,
        organizer,
        checkins,
        reports,
    ):
        api.register_blueprint(module.blp)
