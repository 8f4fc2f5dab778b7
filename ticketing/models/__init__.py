"""SQLAlchemy models; importing this package registers every table on `db.metadata`."""

from .event import Event
from .seat import AVAILABLE, BOOKED, LOCKED, SEAT_STATUSES, Seat, effective_status, format_price, status_filter
from .ticket import Ticket
from .types import MAX_ID, iso, utcnow
from .user import RevokedToken, User

__all__ = [
    "AVAILABLE",
    "BOOKED",
    "LOCKED",
    "MAX_ID",
    "SEAT_STATUSES",
    "Event",
    "RevokedToken",
    "Seat",
    "Ticket",
    "User",
    "effective_status",
    "format_price",
    "iso",
    "status_filter",
    "utcnow",
]
