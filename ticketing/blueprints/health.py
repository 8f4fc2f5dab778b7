"""Liveness and readiness."""

from __future__ import annotations

from ..controllers import health as controller
from ..schemas.common import HealthSchema
from .base import Blueprint

blp = Blueprint("health", __name__, description="Process and database health")


@blp.route("/healthz")
@blp.response(200, HealthSchema)
def healthz():
    """The process is up."""
    return controller.healthz()


@blp.route("/readyz")
@blp.response(200, HealthSchema)
@blp.alt_response(503, codes=["database_unavailable"], description="the database cannot be reached")
def readyz():
    """The database answers."""
    return controller.readyz()
