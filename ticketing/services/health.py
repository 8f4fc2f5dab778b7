"""Is the database there?"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ..extensions import db

log = logging.getLogger(__name__)


def database_is_reachable() -> bool:
    """True when a trivial query succeeds."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except DBAPIError as error:
        log.warning("readiness check failed: %s", error.__class__.__name__)
        db.session.rollback()
        return False
