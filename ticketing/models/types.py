"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Integer

# 64-bit ids on PostgreSQL; SQLite needs INTEGER for its rowid primary keys.
BigId = BigInteger().with_variant(Integer(), "sqlite")

# The largest id a client can name; anything bigger cannot exist (and would overflow BIGINT).
MAX_ID = 2**63 - 1


def utcnow() -> datetime:
    """The current time as a naive UTC datetime, the form every timestamp column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(moment: datetime | None) -> str | None:
    """Render a stored (naive UTC) timestamp as ISO 8601 with a `Z`."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds") + "Z"
