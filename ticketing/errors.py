"""One error hierarchy for the domain, and the handlers that render every error as JSON."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, jsonify
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from . import metrics

log = logging.getLogger(__name__)


class TicketingError(Exception):
    """A failure a client can act on: an HTTP status, a snake_case code and a sentence."""

    status = 400
    code = "bad_request"
    message = "The request could not be handled."
    headers: dict[str, str] = {}

    def __init__(self, message: str | None = None, *, details: dict | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class InvalidRequestError(TicketingError):
    status, code, message = 400, "validation_error", "The request is invalid."


class UnauthorizedError(TicketingError):
    status, code, message = 401, "unauthorized", "A valid access token is required."


class InvalidCredentialsError(TicketingError):
    status, code, message = 401, "invalid_credentials", "The email or password is wrong."


class ForbiddenError(TicketingError):
    status, code, message = 403, "forbidden", "You may not do this."


class NotFoundError(TicketingError):
    status, code, message = 404, "not_found", "There is nothing here."


class EventNotFoundError(NotFoundError):
    code, message = "event_not_found", "The event does not exist."


class SeatNotFoundError(NotFoundError):
    code, message = "seat_not_found", "The seat does not exist."


class UserNotFoundError(NotFoundError):
    code, message = "user_not_found", "There is no account with this email."


class OrganizationNotFoundError(NotFoundError):
    code, message = "organization_not_found", "The organization does not exist."


class MemberNotFoundError(NotFoundError):
    code, message = "member_not_found", "This user is not a member of the organization."


class VenueNotFoundError(NotFoundError):
    code, message = "venue_not_found", "The venue does not exist."


class ConflictError(TicketingError):
    status, code, message = 409, "conflict", "The request conflicts with the current state."


class EmailTakenError(ConflictError):
    code, message = "email_taken", "An account with this email already exists."


class SeatLockedError(ConflictError):
    code, message = "seat_locked", "The seat is locked by another user."


class SeatBookedError(ConflictError):
    code, message = "seat_booked", "The seat is already booked."


class SeatBlockedError(ConflictError):
    code, message = "seat_blocked", "The organizer has taken this seat off sale."


class EventNotOnSaleError(ConflictError):
    code, message = "event_not_on_sale", "This event is not on sale right now."


class EventCancelledError(ConflictError):
    code, message = "event_cancelled", "The event is cancelled and can no longer be changed."


class LastOwnerError(ConflictError):
    code, message = "last_owner", "An organization keeps at least one owner."


class SeatNotLockedError(ConflictError):
    code, message = "seat_not_locked", "You do not hold a lock on this seat."


class LockExpiredError(ConflictError):
    code, message = "lock_expired", "Your lock on this seat has expired; lock it again."


class HoldLimitReachedError(ConflictError):
    code, message = "hold_limit_reached", "You already hold the most seats allowed for this event."


class SeatInOrderError(ConflictError):
    code, message = "seat_in_order", "The seat is held by your pending order: pay or cancel the order."


class SeatsUnavailableError(ConflictError):
    code, message = "seats_unavailable", "Some of the seats are booked or held by someone else."


class NoSeatsAvailableError(ConflictError):
    code, message = "no_seats_available", "There are not enough free seats together for this request."


class OrphanSeatError(ConflictError):
    code, message = "orphan_seat", "This choice would leave a single seat alone between taken seats."


class OrderNotFoundError(NotFoundError):
    code, message = "order_not_found", "The order does not exist."


class TicketNotFoundError(NotFoundError):
    code, message = "ticket_not_found", "There is no ticket with this code."


class AlreadyCheckedInError(ConflictError):
    code, message = "already_checked_in", "This ticket has already been checked in."


class TicketVoidError(ConflictError):
    code, message = "ticket_void", "This ticket is void (refunded, or the event was cancelled): it admits nobody."


class NotCheckedInError(ConflictError):
    code, message = "not_checked_in", "This ticket is not checked in, so it cannot exit."


class OrderExpiredError(ConflictError):
    code, message = "order_expired", "The order's time ran out; its seats are free again."


class OrderNotPayableError(ConflictError):
    code, message = "order_not_payable", "The order cannot be paid in its current state."


class OrderNotCancellableError(ConflictError):
    code, message = "order_not_cancellable", "The order cannot be cancelled in its current state."


class OrderNotRefundableError(ConflictError):
    code, message = "order_not_refundable", "The order cannot be refunded: it is not paid."


class TicketNotRefundableError(ConflictError):
    code, message = "ticket_not_refundable", "The ticket cannot be refunded: it is void already or checked in."


class RefundInProgressError(ConflictError):
    code, message = "refund_in_progress", "A refund of this order is being processed; retry shortly."
    headers = {"Retry-After": "1"}


class PaymentInProgressError(ConflictError):
    code, message = "payment_in_progress", "A payment for this order is being processed; retry shortly."
    headers = {"Retry-After": "1"}


class PaymentDeclinedError(TicketingError):
    status, code, message = 402, "payment_declined", "The payment was declined; the seats are free again."


class PaymentGatewayError(TicketingError):
    status, code = 502, "payment_gateway_error"
    message = "The payment gateway failed; nothing was charged and the order can be paid again."


class PaymentRequiredError(TicketingError):
    status, code = 402, "payment_required"
    message = "This seat has a price: buy it through an order (POST /orders)."


class BusyError(TicketingError):
    status, code, message = 503, "busy", "The seat is busy right now; please retry."
    headers = {"Retry-After": "1"}


class UriTooLongError(TicketingError):
    status, code = 414, "uri_too_long"
    message = "The request's URL is longer than this service accepts."


class HeadersTooLargeError(TicketingError):
    status, code = 431, "headers_too_large"
    message = "The request's headers are larger than this service accepts."


class RateLimitedError(TicketingError):
    status, code, message = 429, "rate_limited", "Too many attempts; wait for the time in Retry-After and try again."

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


class HeldFeedLimitError(TicketingError):
    status, code = 429, "rate_limited"
    message = (
        "This address already has as many change-feed requests held open as allowed; "
        "wait for the time in Retry-After, or ask without `wait`."
    )
    headers = {"Retry-After": "5"}


class OutOfConnectionsError(BusyError):
    message = "The service is at its limit of database connections right now; please retry."


class DatabaseUnavailableError(TicketingError):
    status, code, message = 503, "database_unavailable", "The database cannot be reached; please retry."
    headers = {"Retry-After": "1"}


# Codes for HTTP errors that Flask or Werkzeug raise before a view runs.
_HTTP_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    431: "headers_too_large",
}


def _flatten(messages: object, prefix: str = "") -> dict[str, list[str]]:
    """Turn webargs' nested messages into `{"field.sub": [problem, ...]}`."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(_flatten(value, name))
        return flat
    if isinstance(messages, (list, tuple)) and all(isinstance(m, str) for m in messages):
        return {prefix or "body": list(messages)}
    return {prefix or "body": [str(messages)]}


def _details_from_webargs(messages: dict) -> dict[str, list[str]]:
    # webargs nests problems under their location ("json", "query", ...); clients want fields.
    details: dict[str, list[str]] = {}
    for location, problems in messages.items():
        if isinstance(problems, dict):
            details.update(_flatten(problems))
        else:
            details.update(_flatten(problems, "body" if location == "json" else location))
    return details


def render_http_exception(error: HTTPException):
    """Render any HTTPException (routing, webargs validation, size limits) as `{code, message}`."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if messages and status in (400, 422):
        failure = InvalidRequestError(details=_details_from_webargs(messages))
        return jsonify(failure.to_dict()), failure.status
    code = _HTTP_CODES.get(status, "internal_error" if status >= 500 else "error")
    message = error.description if status < 500 else "Something went wrong on our side."
    if status == 404:
        message = "There is no such resource."
    response = jsonify({"code": code, "message": message})
    response.status_code = status
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def render_ticketing_error(error: TicketingError):
    """Render a domain error."""
    metrics.record_error(error.code)
    return jsonify(error.to_dict()), error.status, error.headers


# A connection refused for want of room: PostgreSQL's max_connections or a role's or database's
# CONNECTION LIMIT (SQLSTATE 53300, often without a SQLSTATE on a failed connect), or PgBouncer's
# max_client_conn and query_wait_timeout.
_OUT_OF_CONNECTIONS_SQLSTATES = {"53300"}
_OUT_OF_CONNECTIONS_WORDS = (
    "too many clients",
    "too many connections",
    "no more connections allowed",
    "query_wait_timeout",
)


def is_out_of_connections(error: DBAPIError) -> bool:
    """True when the database (or the pooler in front) refused a connection for want of room."""
    if getattr(error.orig, "sqlstate", None) in _OUT_OF_CONNECTIONS_SQLSTATES:
        return True
    text = str(error.orig).lower()
    return any(words in text for words in _OUT_OF_CONNECTIONS_WORDS)


def render_database_error(error: DBAPIError):
    """A database that is down or overloaded is a 503, never a 500 with SQL in it."""
    if is_out_of_connections(error):
        log.warning("database connection refused: no room (%s)", error.__class__.__name__)
        return render_ticketing_error(OutOfConnectionsError())
    log.warning("database error: %s", error.__class__.__name__, exc_info=error)
    return render_ticketing_error(DatabaseUnavailableError())


def render_pool_timeout(_error: PoolTimeoutError):
    """Every connection of this worker's pool stayed busy for DATABASE_POOL_TIMEOUT_MS: 503 busy."""
    log.warning("no free connection in this worker's database pool")
    return render_ticketing_error(OutOfConnectionsError())


def render_unexpected(error: Exception):
    """The last resort: log the trace, answer a plain 500 without it."""
    log.exception("unhandled error", exc_info=error)
    return jsonify({"code": "internal_error", "message": HTTPStatus.INTERNAL_SERVER_ERROR.phrase}), 500


def register_error_handlers(app: Flask) -> None:
    """Install the JSON error handlers (after flask-smorest, so these win)."""
    app.register_error_handler(TicketingError, render_ticketing_error)
    app.register_error_handler(HTTPException, render_http_exception)
    app.register_error_handler(DBAPIError, render_database_error)
    app.register_error_handler(PoolTimeoutError, render_pool_timeout)
    app.register_error_handler(Exception, render_unexpected)
