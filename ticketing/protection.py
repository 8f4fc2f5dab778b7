"""Abuse protection: rate limits, request rules, security headers, CORS."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import time

from flask import Flask, Response, abort, request
from flask_limiter import Limiter, RateLimitExceeded, RouteLimit
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.exceptions import HTTPException

from .errors import render_http_exception
from .services.auth import normalise_email

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

LOGIN_LIMITED_MESSAGE = "Too many failed logins for this account; wait for the time in Retry-After and try again."
REGISTER_LIMITED_MESSAGE = "Too many registrations from this address; wait for the time in Retry-After and try again."


def init_protection(app: Flask) -> None:
    """Install the rate limiter, request checks and response headers on the app."""
    _install_rate_limits(app)
    app.before_request(_refuse_non_json_bodies)
    app.after_request(_add_security_headers)
    _install_cors(app)


# Rate limits ----------------------------------------------------------------------------------


def _install_rate_limits(app: Flask) -> None:
    """A limiter of this app's own (its own storage), wrapped around the auth views."""
    login_limit = _checked_limit(app, "LOGIN_FAILURE_LIMIT")
    register_limit = _checked_limit(app, "REGISTER_LIMIT")
    storage_url = app.config.get("RATE_LIMIT_STORAGE_URL") or "memory://"
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
        "auth.login",
        limiter.limit(
            login_limit,
            key_func=login_account_key,
            deduct_when=_is_failed_login,
            error_message=LOGIN_LIMITED_MESSAGE,
        ),
    )
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


def login_account_key() -> str:
    """The account a login is for: a digest of the normalised email (no addresses kept in Redis)."""
    try:
        body = request.get_json(silent=True)
    except HTTPException:  # an oversized body: the view answers it
        body = None
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str):
        return "login:no-email"  # the view answers 400; nothing is ever deducted from this key
    digest = hashlib.sha256(normalise_email(email).encode("utf-8", "surrogatepass")).hexdigest()
    return f"login:{digest}"


def client_address_key() -> str:
    """The client's address as the server sees it (behind a proxy, configure ProxyFix)."""
    return f"address:{get_remote_address()}"


def _is_failed_login(response: Response) -> bool:
    # Only a wrong email or password counts: not a success, a 400 or the 429 itself.
    return response.status_code == 401


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
