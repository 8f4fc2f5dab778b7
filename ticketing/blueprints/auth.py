"""Accounts and tokens."""

from __future__ import annotations

from flask_jwt_extended import jwt_required

from ..controllers import auth as controller
from ..schemas.auth import LoginSchema, MeEnvelope, RegisterSchema, TokenSchema, UserEnvelope
from ..schemas.common import MessageSchema
from .base import BEARER, Blueprint

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Accounts and tokens")


@blp.route("/register", methods=["POST"])
@blp.arguments(RegisterSchema)
@blp.response(201, UserEnvelope)
@blp.alt_response(409, codes=["email_taken"])
@blp.alt_response(429, codes=["rate_limited"], description="too many registrations from this address (see Retry-After)")
def register(data):
    """Create an account."""
    return controller.register(data)


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, codes=["invalid_credentials"])
@blp.alt_response(
    429,
    codes=["rate_limited"],
    description="too many failed logins for this account or from this address (see Retry-After)",
)
def login(data):
    """Exchange email and password for an access and a refresh token."""
    return controller.login(data)


@blp.route("/refresh", methods=["POST"])
@blp.response(200, TokenSchema)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER, description="Send the refresh token as the Bearer token.")
@jwt_required(refresh=True)
def refresh():
    """A new access token for a refresh token."""
    return controller.refresh()


@blp.route("/me")
@blp.response(200, MeEnvelope)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
def me():
    """The token's user."""
    return controller.me()


@blp.route("/logout", methods=["POST"])
@blp.response(200, MessageSchema)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required(verify_type=False)
def logout():
    """End the login the token sent belongs to (access or refresh token): its refresh token and every
    access token made from it answer 401 from now on; other logins of the user go on."""
    return controller.logout()
