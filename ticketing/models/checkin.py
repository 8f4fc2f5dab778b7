"""Check-ins: every scan at an event's door, admitted or refused, and the pure rule that reads them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigId

ENTRY, EXIT = "entry", "exit"
CHECKIN_TYPES = (ENTRY, EXIT)
# What a scan did. Only `admitted` and `exited` move the ticket in or out; the others are refusals.
ADMITTED, EXITED = "admitted", "exited"
ALREADY_CHECKED_IN, VOID_TICKET, NOT_CHECKED_IN, UNKNOWN_TICKET = (
    "already_checked_in",
    "void",
    "not_checked_in",
    "ticket_not_found",
)
CHECKIN_RESULTS = (ADMITTED, EXITED, ALREADY_CHECKED_IN, VOID_TICKET, NOT_CHECKED_IN, UNKNOWN_TICKET)
MOVEMENTS = (ADMITTED, EXITED)


class Checkin(db.Model):
    """One scan of a code at an event's door, with the answer it got.

    The unique (event, code, nonce) makes a door's retry idempotent: the code names the ticket (and
    an unknown code is recorded too, with no ticket), so this is (ticket, nonce) for every scan that
    found one. `answer` is the first answer as sent (status and JSON), given again to a retry.
    """

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("event_id", "code", "nonce"),
        Index("ix_checkins_ticket_id_id", "ticket_id", "id"),
        Index("ix_checkins_event_id_id", "event_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id", ondelete="CASCADE"))
    # None for a code that is no ticket of this event; a ticket's scans stay if the ticket goes.
    ticket_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("tickets.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(String(200))  # as scanned: an unknown code too
    nonce: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(5))
    result: Mapped[str] = mapped_column(String(20))
    gate: Mapped[str] = mapped_column(String(40), default="")
    forced: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When the door scanned (as it says; the server's time when it says nothing), and when it was recorded.
    scanned_at: Mapped[datetime] = mapped_column(DateTime)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    answer_status: Mapped[int] = mapped_column(BigInteger)
    answer: Mapped[str] = mapped_column(Text)


@dataclass(frozen=True)
class Movement:
    """A scan that moved a ticket in (`admitted`) or out (`exited`), at the time it counts for."""

    result: str
    at: datetime
    gate: str


@dataclass(frozen=True)
class DoorState:
    """Where a ticket stands at the door: the admission that let it in (None: outside), the latest ever."""

    inside: Movement | None
    last_admitted: Movement | None

    @property
    def checked_in_at(self) -> datetime | None:
        return self.last_admitted.at if self.last_admitted else None

    def then(self, movement: Movement) -> DoorState:
        """Where the ticket stands after `movement` (a refusal moves nothing)."""
        if movement.result == ADMITTED:
            return DoorState(inside=movement, last_admitted=movement)
        if movement.result == EXITED:
            return DoorState(inside=None, last_admitted=self.last_admitted)
        return self


OUTSIDE = DoorState(inside=None, last_admitted=None)


def door_state(movements: Iterable[Movement]) -> DoorState:
    """Fold a ticket's movements, in the order they were recorded, into where it stands now."""
    state = OUTSIDE
    for movement in movements:
        state = state.then(movement)
    return state


def decide(*, kind: str, void: bool, state: DoorState) -> str:
    """The result of a scan of a known ticket of the event: entry admits a valid ticket that is not
    inside; exit lets out one that is; a void ticket is refused either way."""
    if void:
        return VOID_TICKET
    if kind == ENTRY:
        return ALREADY_CHECKED_IN if state.inside else ADMITTED
    return EXITED if state.inside else NOT_CHECKED_IN
