"""The audit log: who did what, when, to an organization's events, venues and members. Append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigId, utcnow


class AuditEntry(db.Model):
    """One organizer action or refund. Rows are only ever inserted (services.audit.record)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_event_id_id", "event_id", "id"),
        Index("ix_audit_entries_organization_id_id", "organization_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # None: the system (the sweeper finishing an event's cancellation). No foreign key: the log outlives
    # the accounts it names.
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    organization_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict] = mapped_column(JSON)
