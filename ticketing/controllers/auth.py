"""Accounts and tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, current_user, get_jwt

from ..clock import current_time
from ..services import auth as auth_service
from ..services import organizations
from .presenters import user_json


def register(data: dict) -> tuple[dict, int]:
    user = auth_service.register_user(email=data["email"], password=data["password"], name=data["name"])
    return {"message": f"Account {user.email} created", "user": user_json(user)}, 201


def login(data: dict) -> dict:
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
    mine = organizations.list_organizations(user_id=current_user.id)
    # Beside the user, whose object keeps exactly the fields it always had.
    return {
        "user": user_json(current_user, with_role=True),
        "organizations": [{"id": o.id, "name": o.name, "role": o.role} for o in mine],
    }


def logout() -> dict:
    token = get_jwt()
    expires_at = datetime.fromtimestamp(token["exp"], UTC).replace(tzinfo=None)
    auth_service.revoke_token(jti=token["jti"], expires_at=expires_at, now=current_time())
    return {"message": "Token revoked"}
