"""Accounts and tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, current_user, get_jwt

from ..clock import current_time
from ..protection import counted_login
from ..services import auth as auth_service
from .presenters import user_json


def register(data: dict) -> tuple[dict, int]:
    user = auth_service.register_user(email=data["email"], password=data["password"], name=data["name"])
    return {"message": f"Account {user.email} created", "user": user_json(user)}, 201


def login(data: dict) -> dict:
    with counted_login(data["email"]):  # before the password is checked: 429 once the budget is spent
        user = auth_service.authenticate(email=data["email"], password=data["password"])
    return {
        "access_token": create_access_token(identity=user),
        "refresh_token": create_refresh_token(identity=user),
        "token_type": "Bearer",
        "expires_in": current_app.config["ACCESS_TOKEN_TTL_SECONDS"],
    }


def refresh() -> dict:
    return {
        "access_token": create_access_token(identity=current_user),
        "token_type": "Bearer",
        "expires_in": current_app.config["ACCESS_TOKEN_TTL_SECONDS"],
    }


def me() -> dict:
    return {"user": user_json(current_user, with_role=True)}


def logout() -> dict:
    token = get_jwt()
    expires_at = datetime.fromtimestamp(token["exp"], UTC).replace(tzinfo=None)
    auth_service.revoke_token(jti=token["jti"], expires_at=expires_at, now=current_time())
    return {"message": "Token revoked"}
