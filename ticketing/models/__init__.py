"""SQLAlchemy models; importing this package registers every table on `db.metadata`."""

from .event import (
    CANCELLED as EVENT_CANCELLED,
)
from .event import (
    CLOSED,
    DRAFT,
    EVENT_STATUSES,
    ON_SALE,
    PUBLIC_STATUSES,
    Event,
    EventCategory,
    is_on_sale,
)
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
from .organization import DOOR, MANAGER, OWNER, ROLES, Membership, Organization, role_includes
from .payment import Payment
from .seat import (
    AVAILABLE,
    BLOCKED,
    BOOKED,
    LOCKED,
    SEAT_STATUSES,
    Seat,
    effective_status,
    effective_status_sql,
    format_price,
    is_live_lock,
    live_lock,
    run_out_lock,
    status_filter,
)
from .ticket import Ticket
from .types import MAX_ID, iso, utcnow
from .user import RevokedToken, User
from .venue import Venue
from .version import ChangeClock

__all__ = [
    "AVAILABLE",
    "BLOCKED",
    "BOOKED",
    "CANCELLED",
    "CLOSED",
    "DOOR",
    "DRAFT",
    "EVENT_CANCELLED",
    "EVENT_STATUSES",
    "EXPIRED",
    "LOCKED",
    "MANAGER",
    "MAX_ID",
    "ON_SALE",
    "ORDER_STATUSES",
    "OWNER",
    "PAID",
    "PAYMENT_FAILED",
    "PENDING_PAYMENT",
    "PUBLIC_STATUSES",
    "ROLES",
    "SEAT_STATUSES",
    "ChangeClock",
    "Event",
    "EventCategory",
    "Membership",
    "Order",
    "OrderSeat",
    "Organization",
    "Payment",
    "RevokedToken",
    "Seat",
    "Ticket",
    "User",
    "Venue",
    "effective_status",
    "effective_status_sql",
    "format_price",
    "is_live_lock",
    "is_on_sale",
    "iso",
    "live_lock",
    "order_status",
    "role_includes",
    "run_out_lock",
    "status_filter",
    "utcnow",
]
