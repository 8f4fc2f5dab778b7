"""Organizations and their members, for the token's user."""

from __future__ import annotations

from ..security import current_user_id
from ..services import organizations as service


def _organization_json(organization) -> dict:
    return {"id": organization.id, "name": organization.name}


def _member_json(member) -> dict:
    return {"user_id": member.user_id, "email": member.email, "role": member.role}


def create(data: dict) -> tuple[dict, int]:
    organization = service.create_organization(name=data["name"], owner_id=current_user_id())
    body = _organization_json(organization)
    return {"message": f"Organization {organization.name} created; you are its owner", "organization": body}, 201


def list_mine() -> dict:
    organizations = service.list_organizations(user_id=current_user_id())
    return {"organizations": [{**_organization_json(o), "role": o.role} for o in organizations]}


def add_member(organization_id: int, data: dict) -> tuple[dict, int]:
    member, created = service.add_member(
        actor_id=current_user_id(), organization_id=organization_id, email=data["email"], role=data["role"]
    )
    verb = "added as" if created else "is now"
    return {"message": f"{member.email} {verb} {member.role}", "member": _member_json(member)}, 201


def list_members(organization_id: int) -> dict:
    members = service.list_members(actor_id=current_user_id(), organization_id=organization_id)
    return {"members": [_member_json(member) for member in members]}


def remove_member(organization_id: int, user_id: int) -> dict:
    service.remove_member(actor_id=current_user_id(), organization_id=organization_id, user_id=user_id)
    return {"message": f"User {user_id} is no longer a member of organization {organization_id}"}
