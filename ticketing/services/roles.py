"""Who may do what in an organization: roles read from the database, in the transaction that needs them.

Roles live in `memberships` rows, never in tokens, so taking a role away counts from the next request.
A platform admin (`users.is_admin`) acts as owner of every organization and of the events that
belong to none (made by seed-seats). `require_role` is the one place that decides.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from ..errors import ForbiddenError, OrganizationNotFoundError, TicketingError, UnauthorizedError
from ..models import OWNER, PUBLIC_STATUSES, Event, Membership, Organization, User, role_includes

_USERS, _MEMBERS, _ORGANIZATIONS = User.__table__, Membership.__table__, Organization.__table__


def member_role(session: Session, *, user_id: int, organization_id: int | None) -> str | None:
    """The user's role in the organization: their membership's, `owner` for a platform admin, or None.

    One query reads the user, the organization and the membership (an admin has no role in an
    organization that does not exist). Organization None (an event made by seed-seats): admins only.
    """
    organization = _ORGANIZATIONS.c.id == organization_id
    membership = and_(_MEMBERS.c.organization_id == organization_id, _MEMBERS.c.user_id == _USERS.c.id)
    row = session.execute(
        select(_USERS.c.is_admin, _ORGANIZATIONS.c.id.label("organization"), _MEMBERS.c.role)
        .select_from(_USERS.outerjoin(_ORGANIZATIONS, organization).outerjoin(_MEMBERS, membership))
        .where(_USERS.c.id == user_id)
    ).first()
    if row is None:
        raise UnauthorizedError("Your account no longer exists.")
    return role_of(
        is_admin=row.is_admin,
        organization_id=organization_id,
        organization_found=row.organization is not None,
        membership_role=row.role,
    )


def role_of(
    *, is_admin: bool, organization_id: int | None, organization_found: bool, membership_role: str | None
) -> str | None:
    """The role `member_role` reads, from what its query returns (a caller that reads the same columns
    within a larger query, such as the door's scan, decides with this too)."""
    if is_admin and (organization_id is None or organization_found):
        return OWNER
    return membership_role


def require_role(
    session: Session,
    *,
    user_id: int,
    organization_id: int | None,
    role: str,
    outsider: TicketingError | None = None,
) -> str:
    """Return the user's role in the organization, which must include `role` (owner > manager > door).

    Someone with no role there gets `outsider`: by default OrganizationNotFoundError, as if the
    organization did not exist (a venue's or a draft's own 404 when the caller passes one; 403 for
    an event buyers can see anyway). A member whose role is too low gets ForbiddenError.
    """
    return check_role(member_role(session, user_id=user_id, organization_id=organization_id), role, outsider=outsider)


def check_role(found: str | None, role: str, *, outsider: TicketingError | None = None) -> str:
    """`require_role`'s decision on a role already read: return it, or raise as `require_role` says."""
    if found is None:
        raise outsider or OrganizationNotFoundError()
    if not role_includes(found, role):
        raise ForbiddenError(f"This needs the role {role} in the organization; yours is {found}.")
    return found


def visible_events(user_id: int | None) -> ColumnElement[bool]:
    """SQL (on `events`): the events the user may see. Everyone sees events on sale, closed or
    cancelled; a draft only its organization's members and platform admins."""
    public = Event.status.in_(PUBLIC_STATUSES)
    if user_id is None:
        return public
    member = exists().where(Membership.organization_id == Event.organization_id, Membership.user_id == user_id)
    admin = exists().where(User.id == user_id, User.is_admin)
    return or_(public, member, admin)


def can_see(session: Session, *, user_id: int | None, status: str, organization_id: int | None) -> bool:
    """True when the user may see an event in `status` of the organization (see `visible_events`)."""
    if status in PUBLIC_STATUSES:
        return True
    return user_id is not None and member_role(session, user_id=user_id, organization_id=organization_id) is not None
