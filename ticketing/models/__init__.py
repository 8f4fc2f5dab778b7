"""SQLAlchemy models; importing this package registers every table on `db.metadata`."""

from .event import Event
from .order import (
    CANCELLED,
    EXPIRED,
    ORDER_STATUSES,
    PAID,
    PAYMENT_FAILED,
    PENDING_PAYMENT,
    Order,
    OrderSeat,
    order_status,
)
from .payment import Payment
from .seat import (
    AVAILABLE,
    BOOKED,
    LOCKED,
    SEAT_STATUSES,
    Seat,
    effective_status,
    effective_status_sql,
    format_price,
    is_live_lock,
    is_taken,
    live_lock,
    run_out_lock,
    status_filter,
)
from .ticket import TICKET_STATUSES, VALID, VOID, Ticket
from .types import MAX_ID, iso, utcnow
from .user import EMAIL_MAX_LENGTH, RevokedToken, User, normalise_email
from .version import ChangeClock

__all__ = [
    "AVAILABLE",
    "BOOKED",
    "CANCELLED",
    "EMAIL_MAX_LENGTH",
    "EXPIRED",
    "LOCKED",
    "MAX_ID",
    "ORDER_STATUSES",
    "PAID",
    "PAYMENT_FAILED",
    "PENDING_PAYMENT",
    "SEAT_STATUSES",
    "TICKET_STATUSES",
    "VALID",
    "VOID",
    "ChangeClock",
    "Event",
    "Order",
    "OrderSeat",
    "Payment",
    "RevokedToken",
    "Seat",
    "Ticket",
    "User",
    "effective_status",
    "effective_status_sql",
    "format_price",
    "is_live_lock",
    "is_taken",
    "iso",
    "live_lock",
    "normalise_email",
    "order_status",
    "run_out_lock",
    "status_filter",
    "utcnow",
]
