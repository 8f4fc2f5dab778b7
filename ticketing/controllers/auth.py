"""Accounts and tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, current_user, get_jwt

from ..clock import current_time
from ..protection import counted_login
from ..security import SESSION_CLAIM, login_session_id
from ..services import auth as auth_service
from ..services import organizations
from .presenters import user_json


def register(data: dict) -> tuple[dict, int]:
    user = auth_service.register_user(email=data["email"], password=data["password"], name=data["name"])
    return {"message": f"Account {user.email} created", "user": user_json(user)}, 201


def login(data: dict) -> dict:
    with counted_login(data["email"]):  # before the password is checked: 429 once the budget is spent
        user = auth_service.authenticate(email=data["email"], password=data["password"])
    # One id for this login, in its refresh token and in every access token made from it, so that
    # one logout ends them all (security.py refuses a token whose `sid` was revoked).
    login_session = {SESSION_CLAIM: uuid.uuid4().hex}
    return {
        "access_token": create_access_token(identity=user, additional_claims=login_session),
        "refresh_token": create_refresh_token(identity=user, additional_claims=login_session),
        "token_type": "Bearer",
        "expires_in": current_app.config["ACCESS_TOKEN_TTL_SECONDS"],
    }


def refresh() -> dict:
    session_id = login_session_id(get_jwt())
    claims = {SESSION_CLAIM: session_id} if session_id else None
    return {
        "access_token": create_access_token(identity=current_user, additional_claims=claims),
        "token_type": "Bearer",
        "expires_in": current_app.config["ACCESS_TOKEN_TTL_SECONDS"],
    }


def me() -> dict:
    mine = organizations.list_organizations(user_id=current_user.id)
    # Beside the user, whose object keeps exactly the fields it always had.
    return {
        "user": user_json(current_user, with_role=True),
        "organizations": [{"id": o.id, "name": o.name, "role": o.role} for o in mine],
    }


def logout() -> dict:
    """Revoke the token sent and, through its login session id, every token of the same login."""
    token, now = get_jwt(), current_time()
    revocations = {token["jti"]: datetime.fromtimestamp(token["exp"], UTC).replace(tzinfo=None)}
    session_id = login_session_id(token)
    if session_id:
        # The login's refresh token expires at most REFRESH_TOKEN_TTL_SECONDS after now, and every
        # access token refreshed from it before that: the revocation need not outlive them.
        revocations[session_id] = now + timedelta(seconds=current_app.config["REFRESH_TOKEN_TTL_SECONDS"])
    auth_service.revoke_tokens(revocations=revocations, now=now)
    return {"message": "Logged out: this login's access and refresh tokens are revoked"}
