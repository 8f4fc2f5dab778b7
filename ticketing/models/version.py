"""SQLite's change clock: one counter that every seat-changing write transaction moves at COMMIT."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ChangeClock(db.Model):
    """One row. On SQLite, writers are serialised, so a counter bumped at COMMIT stamps changes in
    commit order without making anyone queue who would not queue anyway. PostgreSQL does not use it:
    there the writing transaction's own id is the stamp (see database.change_stamp)."""

    __tablename__ = "change_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
