"""The audit log: every organizer action and every refund, written in the transaction that does it.

`record` is the only writer and it only inserts: an entry exists exactly when its action committed,
and nothing ever changes or deletes one (the log is append-only; a unit test keeps it so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..database import require_write_transaction
from ..extensions import db
from ..models import MANAGER, AuditEntry
from .roles import require_role

_AUDIT = AuditEntry.__table__

# The actions written down (docs/refunds.md lists what each entry's details hold).
CREATE_EVENT, UPDATE_EVENT, PUBLISH_EVENT, CLOSE_EVENT, CANCEL_EVENT = (
    "event.create",
    "event.update",
    "event.publish",
    "event.close",
    "event.cancel",
)
BLOCK_SEATS, UNBLOCK_SEATS = "seats.block", "seats.unblock"
REFUND = "order.refund"
SET_MEMBER, REMOVE_MEMBER = "member.set", "member.remove"
CREATE_VENUE = "venue.create"
CREATE_ORGANIZATION = "organization.create"


def _plain(value):
    """Details as JSON: times as ISO strings, everything else as given."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def record(
    session: Session,
    *,
    user_id: int | None,
    action: str,
    at: datetime,
    organization_id: int | None = None,
    event_id: int | None = None,
    details: dict | None = None,
) -> None:
    """Append one entry in the caller's write transaction (it commits or rolls back with the action)."""
    require_write_transaction(session)
    session.connection().execute(
        insert(_AUDIT).values(
            at=at,
            user_id=user_id,
            organization_id=organization_id,
            event_id=event_id,
            action=action,
            details=_plain(details or {}),
        )
    )


@dataclass(frozen=True)
class AuditPage:
    entries: list
    next_after: int | None


def event_entries(*, event_id: int, limit: int, after: int | None) -> AuditPage:
    """The event's entries, oldest first, `limit` after the entry id `after` (keyset pages)."""
    return _page(select(_AUDIT).where(_AUDIT.c.event_id == event_id), limit=limit, after=after)


def organization_entries(*, user_id: int, organization_id: int, limit: int, after: int | None) -> AuditPage:
    """Every entry of the organization (its members, venues, events and refunds), for its managers."""
    require_role(db.session, user_id=user_id, organization_id=organization_id, role=MANAGER)
    query = select(_AUDIT).where(_AUDIT.c.organization_id == organization_id)
    return _page(query, limit=limit, after=after)


def _page(query, *, limit: int, after: int | None) -> AuditPage:
    if after is not None:
        query = query.where(_AUDIT.c.id > after)
    rows = db.session.execute(query.order_by(_AUDIT.c.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(entries=rows, next_after=rows[-1].id if more else None)
