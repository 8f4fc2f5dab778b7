"""Token rules: every token problem is a JSON 401 `unauthorized`, never flask-jwt-extended's 422."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, jsonify, request
from flask_jwt_extended import JWTManager, get_jwt, get_jwt_identity

from .errors import UnauthorizedError
from .extensions import db
from .services.auth import ACCOUNT_GONE, TOKEN_REVOKED, get_token_holder

SESSION_CLAIM = "sid"  # the login a token belongs to: its refresh token and every access token made from it
_CHECKS_TOKEN_ITSELF = "_ticketing_checks_token_itself"


@dataclass(frozen=True)
class UncheckedHolder:
    """The user a verified token names, not yet looked up: what `current_user` is on a route whose
    service checks the account and the revocation in its own statement (`checks_token_itself`)."""

    id: int


def checks_token_itself(view):
    """Mark a view (put it under `jwt_required()`) whose service checks, on PostgreSQL, in the same
    statement that does the work, that the token's account exists and that `token_ids()` were not
    revoked: the per-request token lookup is skipped there, saving a round trip on a hot route.
    The signature, expiry and type are verified as on every route. SQLite looks the token up as usual.
    """
    setattr(view, _CHECKS_TOKEN_ITSELF, True)
    return view


def _view_checks_token_itself() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, _CHECKS_TOKEN_ITSELF, False):
        return False
    return db.engine.dialect.name == "postgresql"


def token_ids() -> list[str]:
    """The ids whose revocation refuses the request's token: its own `jti`, and its login's."""
    payload = get_jwt()
    session_id = login_session_id(payload)
    return [payload["jti"]] if session_id is None else [payload["jti"], session_id]


def login_session_id(payload: dict) -> str | None:
    """The login session id a verified token carries (None for tokens made before logins had one)."""
    session_id = payload.get(SESSION_CLAIM)
    return session_id if isinstance(session_id, str) and 0 < len(session_id) <= 64 else None


def _unauthorized(message: str = UnauthorizedError.message):
    return jsonify({"code": UnauthorizedError.code, "message": message}), UnauthorizedError.status


def _user_id_from_subject(subject: object) -> int | None:
    try:
        return int(subject)
    except (TypeError, ValueError):
        return None


def register_token_callbacks(jwt: JWTManager) -> None:
    """Install the loaders that look up the token's user and answer every failure with 401."""

    @jwt.user_identity_loader
    def _identity(user) -> str:
        return str(user.id)

    @jwt.user_lookup_loader
    def _lookup(_header, payload):
        # One query answers both "does the account exist" and "was this token revoked".
        user_id = _user_id_from_subject(payload.get("sub"))
        if user_id is None:
            return None
        if _view_checks_token_itself():
            return UncheckedHolder(id=user_id)
        holder = get_token_holder(user_id=user_id, jti=payload["jti"], session_id=login_session_id(payload))
        g.token_revoked = holder.revoked
        return None if holder.revoked else holder.user

    jwt.unauthorized_loader(lambda reason: _unauthorized("A Bearer access token is required."))
    jwt.invalid_token_loader(lambda reason: _unauthorized("The token is invalid."))
    jwt.expired_token_loader(lambda _h, _p: _unauthorized("The token has expired."))
    jwt.needs_fresh_token_loader(lambda _h, _p: _unauthorized("A fresh token is required."))
    jwt.token_verification_failed_loader(lambda _h, _p: _unauthorized("The token was refused."))
    jwt.user_lookup_error_loader(
        lambda _h, _p: _unauthorized(TOKEN_REVOKED if g.get("token_revoked") else ACCOUNT_GONE)
    )


def current_user_id() -> int:
    """The id of the user whose verified access token came with the request."""
    user_id = _user_id_from_subject(get_jwt_identity())
    if user_id is None:
        raise UnauthorizedError()
    return user_id


def optional_user_id() -> int | None:
    """The caller's id when a valid token came with the request, else None."""
    return _user_id_from_subject(get_jwt_identity())
