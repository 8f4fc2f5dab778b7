"""Organizations and their members: create one, list a user's, add, change and remove members.

Members are the owner's business (owner > manager > door, services.roles). Every change runs in one
write transaction that locks the organization's row first, so two owners demoting each other at once
cannot leave it without an owner.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from ..database import write_transaction
from ..errors import ForbiddenError, LastOwnerError, MemberNotFoundError, UserNotFoundError
from ..extensions import db
from ..models import DOOR, OWNER, Membership, Organization, User, utcnow
from . import audit
from .auth import normalise_email
from .roles import require_role
from .row_locks import select_organization_for_update


@dataclass(frozen=True)
class OrganizationView:
    id: int
    name: str
    role: str | None  # the viewer's role (None where it is not asked for)


@dataclass(frozen=True)
class MemberView:
    user_id: int
    email: str
    role: str


def user_id_by_email(email: str) -> int | None:
    """The id of the account with this email, or None."""
    return db.session.scalar(select(User.id).where(User.email == normalise_email(email)))


def create_organization(*, name: str, owner_id: int) -> OrganizationView:
    """A new organization with `owner_id` as its owner."""
    with write_transaction() as session:
        organization = Organization(name=name)
        session.add(organization)
        session.flush()
        session.add(Membership(organization_id=organization.id, user_id=owner_id, role=OWNER))
        audit.record(
            session,
            user_id=owner_id,
            action=audit.CREATE_ORGANIZATION,
            at=utcnow(),
            organization_id=organization.id,
            details={"name": name},
        )
    return OrganizationView(id=organization.id, name=organization.name, role=OWNER)


def list_organizations(*, user_id: int) -> list[OrganizationView]:
    """The organizations the user is a member of, with their role there, by id."""
    rows = db.session.execute(
        select(Organization.id, Organization.name, Membership.role)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user_id)
        .order_by(Organization.id)
    )
    return [OrganizationView(id=id_, name=name, role=role) for id_, name, role in rows]


def list_members(*, actor_id: int, organization_id: int) -> list[MemberView]:
    """The organization's members by user id (owners only)."""
    require_role(db.session, user_id=actor_id, organization_id=organization_id, role=OWNER)
    rows = db.session.execute(
        select(Membership.user_id, User.email, Membership.role)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == organization_id)
        .order_by(Membership.user_id)
    )
    return [MemberView(user_id=user_id, email=email, role=role) for user_id, email, role in rows]


def _owner_count(session, organization_id: int) -> int:
    query = select(func.count()).where(Membership.organization_id == organization_id, Membership.role == OWNER)
    return session.scalar(query) or 0


def add_member(*, actor_id: int, organization_id: int, email: str, role: str) -> tuple[MemberView, bool]:
    """Make the account with `email` a member in `role`, or change the role of a member already there.

    Returns the member and whether they are new. The last owner cannot step down (LastOwnerError).
    """
    with write_transaction() as session:
        select_organization_for_update(session, organization_id)
        require_role(session, user_id=actor_id, organization_id=organization_id, role=OWNER)
        user = session.execute(select(User.id, User.email).where(User.email == normalise_email(email))).first()
        if user is None:
            raise UserNotFoundError(f"There is no account with the email {normalise_email(email)}.")
        membership = session.get(Membership, (organization_id, user.id))
        created = membership is None
        if created:
            session.add(Membership(organization_id=organization_id, user_id=user.id, role=role))
        elif membership.role != role:
            if membership.role == OWNER and _owner_count(session, organization_id) == 1:
                raise LastOwnerError("This is the organization's last owner: make someone else an owner first.")
            membership.role = role
        audit.record(
            session,
            user_id=actor_id,
            action=audit.SET_MEMBER,
            at=utcnow(),
            organization_id=organization_id,
            details={"member_user_id": user.id, "email": user.email, "role": role, "new": created},
        )
    return MemberView(user_id=user.id, email=user.email, role=role), created


def remove_member(*, actor_id: int, organization_id: int, user_id: int) -> None:
    """Remove the member (owners may remove anyone, a member may leave); never the last owner."""
    with write_transaction() as session:
        select_organization_for_update(session, organization_id)
        actor_role = require_role(session, user_id=actor_id, organization_id=organization_id, role=DOOR)
        if actor_id != user_id and actor_role != OWNER:
            raise ForbiddenError(f"This needs the role owner in the organization; yours is {actor_role}.")
        membership = session.get(Membership, (organization_id, user_id))
        if membership is None:
            raise MemberNotFoundError()
        if membership.role == OWNER and _owner_count(session, organization_id) == 1:
            raise LastOwnerError("This is the organization's last owner: make someone else an owner first.")
        session.execute(
            delete(Membership).where(Membership.organization_id == organization_id, Membership.user_id == user_id)
        )
        audit.record(
            session,
            user_id=actor_id,
            action=audit.REMOVE_MEMBER,
            at=utcnow(),
            organization_id=organization_id,
            details={"member_user_id": user_id, "role": membership.role},
        )
