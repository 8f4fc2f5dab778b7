"""Abuse protection: rate limits, request rules, security headers, CORS."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response, abort, current_app, request
from flask_limiter import Limiter, RateLimitExceeded, RouteLimit
from flask_limiter.util import get_remote_address
from limits import parse_many

from .errors import (
    HeadersTooLargeError,
    InvalidCredentialsError,
    RateLimitedError,
    UriTooLongError,
    render_http_exception,
)
from .login_limits import LoginLimiter, LoginRefused
from .models import normalise_email

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CORS_ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"

# The API only ever answers JSON: nothing may load, frame or submit anything from it.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The docs page (/docs, Swagger UI) loads its code and styles from this origin (ticketing.api_docs)
# and reads /openapi.json; its inline bootstrap script is allowed by hash, not by 'unsafe-inline'.
# Swagger UI sets styles inline, so styles may be inline. Nothing may come from anywhere else.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src {script_sources}; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

LOGIN_LIMITED_MESSAGES = {
    "account": "Too many failed logins for this account; wait for the time in Retry-After and try again.",
    "address": "Too many failed logins from this address; wait for the time in Retry-After and try again.",
}
REGISTER_LIMITED_MESSAGE = "Too many registrations from this address; wait for the time in Retry-After and try again."


def init_protection(app: Flask) -> None:
    """Install the rate limiter, request checks and response headers on the app."""
    app.before_request(_refuse_oversized_heads)  # before the rate limiter reads anything
    _install_rate_limits(app)
    app.before_request(_refuse_non_json_bodies)
    app.after_request(_add_security_headers)
    _install_cors(app)


# Rate limits ----------------------------------------------------------------------------------


def _install_rate_limits(app: Flask) -> None:
    """Limiters of this app's own (their own storage): registrations around the view, logins in it."""
    register_limit = _checked_limit(app, "REGISTER_LIMIT")
    storage_url = app.config.get("RATE_LIMIT_STORAGE_URL") or "memory://"
    # Failed logins are counted before the password is checked (counted_login, in the controller):
    # flask-limiter counts a view's outcome after it ran, which a burst gets past.
    app.extensions["login_limiter"] = LoginLimiter(
        account_limit=_checked_limit(app, "LOGIN_FAILURE_LIMIT"),
        address_limit=_checked_limit(app, "LOGIN_ADDRESS_FAILURE_LIMIT"),
        storage_url=storage_url,
    )
    # A hung Redis must not hang logins: fail fast, then fall back to per-process memory.
    storage_options = {"socket_connect_timeout": 2, "socket_timeout": 2} if storage_url.startswith("redis") else {}
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=storage_url,
        storage_options=storage_options,
        strategy="moving-window",  # "N in any minute", not "N per clock minute" (no 2N at the edge)
        key_prefix="ticketing",
        in_memory_fallback_enabled=True,
        swallow_errors=True,  # a storage failure is logged, never a 500 for the client
    )
    # Limits are attached here, per app, rather than with decorators at import time: a limiter
    # made at import would be shared by every app the process builds (and by their storage).
    _limit_view(
        app,
        "auth.register",
        limiter.limit(register_limit, key_func=client_address_key, error_message=REGISTER_LIMITED_MESSAGE),
    )

    def render_rate_limited(error: RateLimitExceeded) -> Response:
        response = render_http_exception(error)
        response.headers["Retry-After"] = str(_seconds_until_retry(limiter, error))
        return response

    app.register_error_handler(RateLimitExceeded, render_rate_limited)


def _checked_limit(app: Flask, name: str) -> str:
    """The limit setting `name`, refused at start-up when it is not a rate such as "10/minute"."""
    value = app.config[name]
    try:
        if not parse_many(value):
            raise ValueError(value)
    except ValueError:
        raise ValueError(f"{name} must be a rate such as '10/minute' or '20/hour', got {value!r}") from None
    return value


def _limit_view(app: Flask, endpoint: str, limit: RouteLimit) -> None:
    app.view_functions[endpoint] = limit(app.view_functions[endpoint])


@contextmanager
def counted_login(email: str) -> Iterator[None]:
    """Take the login's unit of its account's and its address's failed-login budgets BEFORE the
    block checks the password (429 rate_limited when one is spent); the unit stays spent only if
    the block raises InvalidCredentialsError."""
    limiter: LoginLimiter = current_app.extensions["login_limiter"]
    try:
        attempt = limiter.spend(account=login_account_key(email), address=get_remote_address())
    except LoginRefused as refused:
        raise RateLimitedError(LOGIN_LIMITED_MESSAGES[refused.kind], retry_after=refused.retry_after) from None
    try:
        yield
    except InvalidCredentialsError:
        raise
    except BaseException:
        limiter.refund(attempt)  # not a failed login (the database was down, say)
        raise
    limiter.refund(attempt)


def login_account_key(email: str) -> str:
    """The account a login is for: a digest of the normalised email (no addresses kept in Redis)."""
    return hashlib.sha256(normalise_email(email).encode("utf-8", "surrogatepass")).hexdigest()


def client_address_key() -> str:
    """The client's address as the server sees it (behind a proxy, configure ProxyFix)."""
    return f"address:{get_remote_address()}"


def _seconds_until_retry(limiter: Limiter, error: RateLimitExceeded) -> int:
    """Whole seconds until the breached limit lets one more request through (at least 1)."""
    breached = limiter.current_limit
    try:
        if breached is not None:
            return max(1, math.ceil(breached.reset_at - time.time()))
    except Exception:  # the storage went away: the limit's whole period is a safe answer
        pass
    return max(1, error.limit.limit.get_expiry())


# Request rules --------------------------------------------------------------------------------


def _refuse_oversized_heads() -> None:
    """A request head past the app's limits answers JSON 414 / 431 (gunicorn's own limits, higher,
    answer in plain text before the app is reached: gunicorn.conf.py)."""
    config = current_app.config
    environ = request.environ
    # The target as sent (gunicorn: RAW_URI; Werkzeug's server: REQUEST_URI), else as parsed.
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
    if len(target) > config["MAX_URL_LENGTH"]:
        raise UriTooLongError(f"The request's URL is longer than {config['MAX_URL_LENGTH']} bytes.")
    headers = request.headers
    if len(headers) > config["MAX_HEADER_COUNT"]:
        raise HeadersTooLargeError(f"The request has more than {config['MAX_HEADER_COUNT']} header fields.")
    for name, value in headers.items():
        if len(name) + len(value) + 2 > config["MAX_HEADER_BYTES"]:
            raise HeadersTooLargeError(
                f"The request's {name[:64]} header is larger than {config['MAX_HEADER_BYTES']} bytes."
            )


def _refuse_non_json_bodies() -> None:
    """A write that carries a body must carry JSON; a write with no body is fine."""
    if request.method not in WRITE_METHODS:
        return
    has_body = bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if has_body and not request.is_json:
        abort(415, description="Send the request body as JSON, with Content-Type: application/json.")


# Response headers -----------------------------------------------------------------------------


def _add_security_headers(response: Response) -> Response:
    """Headers every answer carries; the docs page gets a policy of its own."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", _docs_policy(response))
    else:
        headers.setdefault("Content-Security-Policy", API_CONTENT_SECURITY_POLICY)
    # Answers to a token holder, and the tokens themselves, must not sit in any cache.
    if "Authorization" in request.headers or request.endpoint == "auth.login":
        headers["Cache-Control"] = "no-store"
    return response


def _docs_policy(response: Response) -> str:
    """The docs page's policy, allowing exactly the inline scripts it carries."""
    sources = ["'self'"]
    if not response.is_streamed:
        for script in _INLINE_SCRIPT.findall(response.get_data(as_text=True)):
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            sources.append(f"'sha256-{digest}'")
    return DOCS_CONTENT_SECURITY_POLICY.format(script_sources=" ".join(sources))


# CORS -----------------------------------------------------------------------------------------


def _install_cors(app: Flask) -> None:
    """Cross-origin access for the exact origins in CORS_ORIGINS only; none when it is empty."""
    origins = frozenset(app.config.get("CORS_ORIGINS") or ())
    if not origins:
        return

    @app.before_request
    def answer_preflight() -> Response | None:
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        if request.routing_exception is not None or request.headers.get("Origin") not in origins:
            return None  # Flask's own answer, without any Access-Control-Allow-* header
        response = app.make_default_options_response()  # its Allow lists every method of the path
        response.headers["Access-Control-Allow-Methods"] = ", ".join(sorted(response.allow))
        response.headers["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
        return response

    @app.after_request
    def add_cors_headers(response: Response) -> Response:
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        if origin in origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        return response
