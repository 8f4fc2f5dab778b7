"""Organizations, their members, and what they run: venues and events."""

from __future__ import annotations

from flask_jwt_extended import jwt_required

from ..controllers import organizations as controller
from ..controllers import organizer, reports, venues
from ..schemas.common import MessageSchema
from ..schemas.organizations import (
    MemberBody,
    MemberListEnvelope,
    MemberResult,
    OrganizationBody,
    OrganizationListEnvelope,
    OrganizationResult,
)
from ..schemas.organizer import EventResult, NewEventBody
from ..schemas.reports import AuditEnvelope, AuditQuery
from ..schemas.venues import VenueBody, VenueListEnvelope, VenueResult
from .base import BEARER, Blueprint

blp = Blueprint(
    "organizations",
    __name__,
    url_prefix="/organizations",
    description="Organizations and roles (owner > manager > door); their venues and events",
)

NOT_A_MEMBER = "no such organization, or the caller is not a member"


@blp.route("", methods=["POST"])
@jwt_required()  # before the body is parsed: no token is a 401, whatever the body
@blp.arguments(OrganizationBody)
@blp.response(201, OrganizationResult)
@blp.doc(**BEARER)
def create_organization(data):
    """Create an organization; the caller becomes its owner."""
    return controller.create(data)


@blp.route("")
@blp.response(200, OrganizationListEnvelope)
@blp.doc(**BEARER)
@jwt_required()
def list_organizations():
    """The caller's organizations, with the caller's role in each."""
    return controller.list_mine()


@blp.route("/<id:organization_id>/members", methods=["POST"])
@jwt_required()
@blp.arguments(MemberBody)
@blp.response(201, MemberResult)
@blp.alt_response(403, codes=["forbidden"], description="only owners manage members")
@blp.alt_response(
    404,
    codes=["user_not_found", "organization_not_found"],
    description=f"no account with this email; or {NOT_A_MEMBER}",
)
@blp.alt_response(409, codes=["last_owner"], description="the organization's last owner cannot step down")
@blp.doc(**BEARER)
def add_member(data, organization_id):
    """Add the account with this email as a member in a role, or change the role of a member (owners)."""
    return controller.add_member(organization_id, data)


@blp.route("/<id:organization_id>/members")
@blp.response(200, MemberListEnvelope)
@blp.alt_response(403, codes=["forbidden"], description="only owners manage members")
@blp.alt_response(404, codes=["organization_not_found"], description=NOT_A_MEMBER)
@blp.doc(**BEARER)
@jwt_required()
def list_members(organization_id):
    """The organization's members and their roles (owners)."""
    return controller.list_members(organization_id)


@blp.route("/<id:organization_id>/members/<id:user_id>", methods=["DELETE"])
@blp.response(200, MessageSchema)
@blp.alt_response(403, codes=["forbidden"], description="only owners remove others (anyone may leave)")
@blp.alt_response(404, codes=["member_not_found", "organization_not_found"], description=NOT_A_MEMBER)
@blp.alt_response(409, codes=["last_owner"], description="the organization's last owner cannot leave")
@blp.doc(**BEARER)
@jwt_required()
def remove_member(organization_id, user_id):
    """Remove a member (owners), or leave the organization (any member)."""
    return controller.remove_member(organization_id, user_id)


@blp.route("/<id:organization_id>/venues", methods=["POST"])
@jwt_required()
@blp.arguments(VenueBody)
@blp.response(201, VenueResult)
@blp.alt_response(400, codes=["validation_error"], description="details name each problem's place in the layout")
@blp.alt_response(403, codes=["forbidden"], description="venues need the role manager")
@blp.alt_response(404, codes=["organization_not_found"], description=NOT_A_MEMBER)
@blp.doc(**BEARER)
def create_venue(data, organization_id):
    """Create a venue from its layout (managers); at most 100,000 seats."""
    return venues.create(organization_id, data)


@blp.route("/<id:organization_id>/venues")
@blp.response(200, VenueListEnvelope)
@blp.alt_response(403, codes=["forbidden"], description="venues need the role manager")
@blp.alt_response(404, codes=["organization_not_found"], description=NOT_A_MEMBER)
@blp.doc(**BEARER)
@jwt_required()
def list_venues(organization_id):
    """The organization's venues with their layouts (managers)."""
    return venues.list_venues(organization_id)


@blp.route("/<id:organization_id>/events", methods=["POST"])
@jwt_required()
@blp.arguments(NewEventBody)
@blp.response(201, EventResult)
@blp.alt_response(
    400,
    codes=["validation_error"],
    description="a category the layout does not use or one it uses without a price, "
    "starts_at in the past, a sales window that ends before it starts",
)
@blp.alt_response(403, codes=["forbidden"], description="events need the role manager")
@blp.alt_response(
    404,
    codes=["venue_not_found", "organization_not_found"],
    description=f"not a venue of this organization; or {NOT_A_MEMBER}",
)
@blp.doc(**BEARER)
def create_event(data, organization_id):
    """Create a draft event at one of the organization's venues, with a price per category (managers)."""
    return organizer.create(organization_id, data)


@blp.route("/<id:organization_id>/audit")
@blp.arguments(AuditQuery, location="query")
@blp.response(200, AuditEnvelope)
@blp.alt_response(403, codes=["forbidden"], description="the audit log needs the role manager")
@blp.alt_response(404, codes=["organization_not_found"], description=NOT_A_MEMBER)
@blp.alt_response(401, codes=["unauthorized"])
@blp.doc(**BEARER)
@jwt_required()
def organization_audit(query, organization_id):
    """The organization's audit log, oldest first: its members, venues and events, and every refund."""
    return reports.organization_audit_log(organization_id, query)
