"""Accounts: registration, password checks, token revocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import write_transaction
from ..errors import EmailTakenError, InvalidCredentialsError, InvalidRequestError, UnauthorizedError
from ..extensions import db
from ..models import EMAIL_MAX_LENGTH, RevokedToken, User, normalise_email

# Checked against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


def register_user(*, email: str, password: str, name: str | None, is_admin: bool = False) -> User:
    """Create an account; raise EmailTakenError when the email is in use."""
    email = normalise_email(email)
    if len(email) > EMAIL_MAX_LENGTH:  # the API checks this already; the CLI and other callers too
        raise InvalidRequestError(details={"email": [f"Longer than {EMAIL_MAX_LENGTH} characters in lower case."]})
    password_hash = generate_password_hash(password, method="scrypt")
    try:
        with write_transaction() as session:
            if session.scalar(select(User.id).where(User.email == email)) is not None:
                raise EmailTakenError()
            user = User(email=email, password_hash=password_hash, name=name, is_admin=is_admin)
            session.add(user)
    except IntegrityError:
        # Two registrations of one email at once: the unique index lets only one through.
        raise EmailTakenError() from None
    return user


def authenticate(*, email: str, password: str) -> User:
    """Return the user whose email and password match, else raise InvalidCredentialsError."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    password_hash = user.password_hash if user is not None else _DUMMY_HASH
    if not check_password_hash(password_hash, password) or user is None:
        raise InvalidCredentialsError()
    return user


def revoke_tokens(*, revocations: dict[str, datetime], now: datetime) -> None:
    """Refuse from now on every token whose `jti` or login session id (`sid`) is a key of
    `revocations`, until the time it maps to; forget revocations that have run out anyway."""
    with write_transaction() as session:
        session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
        for revoked_id, expires_at in revocations.items():
            if session.get(RevokedToken, revoked_id) is None:
                session.add(RevokedToken(jti=revoked_id, expires_at=expires_at))


@dataclass(frozen=True)
class Account:
    """A user as a token's holder sees it (no password hash)."""

    id: int
    email: str
    name: str | None
    is_admin: bool


@dataclass(frozen=True)
class TokenHolder:
    """Who a token speaks for: the user (None when the account is gone) and whether it was revoked."""

    user: Account | None
    revoked: bool


_USERS, _REVOKED = User.__table__, RevokedToken.__table__


def revoked_any(parameter: str):
    """SQL: whether any of the ids in the list parameter `parameter` (a token's `jti`, its login's
    session id) was revoked. The token lookup reads it, and so do the hot routes' own first
    statements (security.checks_token_itself)."""
    return select(_REVOKED.c.jti).where(_REVOKED.c.jti.in_(bindparam(parameter, expanding=True))).exists()


# Built once (with bound parameters): the statement runs on every authenticated request.
_TOKEN_HOLDER = select(
    _USERS.c.id,
    _USERS.c.email,
    _USERS.c.name,
    _USERS.c.is_admin,
    revoked_any("revoked_ids").label("revoked"),
).where(_USERS.c.id == bindparam("user_id"))


ACCOUNT_GONE = "The token's account no longer exists."
TOKEN_REVOKED = "The token has been revoked."


def refuse_token(*, account: bool, revoked: bool) -> None:
    """Raise the token lookup's UnauthorizedError, in its words, when the account is gone or the token
    was revoked (for services that read both themselves)."""
    if not account:
        raise UnauthorizedError(ACCOUNT_GONE)
    if revoked:
        raise UnauthorizedError(TOKEN_REVOKED)


def require_token_holder(*, user_id: int, token_ids: list[str]) -> None:
    """For a route whose token lookup was left to its service (security.checks_token_itself): raise
    UnauthorizedError when the account is gone or one of `token_ids` (the token's, its login's) was
    revoked, worded as the lookup words it."""
    holder = get_token_holder(
        user_id=user_id, jti=token_ids[0], session_id=token_ids[1] if len(token_ids) > 1 else None
    )
    refuse_token(account=holder.user is not None, revoked=holder.revoked)


def get_token_holder(*, user_id: int, jti: str, session_id: str | None = None) -> TokenHolder:
    """The token's user and whether the token (its `jti`) or its login (`session_id`) was revoked,
    in one Core query (it runs on every authenticated request)."""
    revoked_ids = [jti] if session_id is None else [jti, session_id]
    row = db.session.connection().execute(_TOKEN_HOLDER, {"user_id": user_id, "revoked_ids": revoked_ids}).first()
    if row is None:
        return TokenHolder(user=None, revoked=False)
    account = Account(id=row.id, email=row.email, name=row.name, is_admin=bool(row.is_admin))
    return TokenHolder(user=account, revoked=bool(row.revoked))
