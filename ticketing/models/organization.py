"""Organizations and their members: who may run which venues and events, and in what role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigId, utcnow

# Each role includes the ones after it: an owner may do what a manager may, a manager what a door may.
OWNER, MANAGER, DOOR = "owner", "manager", "door"
ROLES = (OWNER, MANAGER, DOOR)
_RANK = {DOOR: 1, MANAGER: 2, OWNER: 3}


class Organization(db.Model):
    """A company that runs venues and events (a theatre, a promoter)."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Membership(db.Model):
    """One user's role in one organization (read in the transaction that needs it, never from a token)."""

    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_user_id", "user_id"),)

    organization_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def role_includes(role: str | None, needed: str) -> bool:
    """True when `role` may do what `needed` may (owner > manager > door); None (no role) includes nothing."""
    return role is not None and _RANK[role] >= _RANK[needed]
