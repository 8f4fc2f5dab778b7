"""Accounts and revoked tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigId, utcnow

EMAIL_MAX_LENGTH = 254  # RFC 5321's longest path, and the column's width


def normalise_email(email: str) -> str:
    """The form an email is stored and compared in: no surrounding spaces, lower case.

    Lower-casing may lengthen it ("\u0130" becomes "i" and a combining dot), so check lengths after this.
    """
    return email.strip().lower()


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(100))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RevokedToken(db.Model):
    """A token (by its `jti`) that was logged out before it expired."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
