"""One venue and its layout."""

from __future__ import annotations

from flask_jwt_extended import jwt_required

from ..controllers import venues as controller
from ..schemas.venues import VenueEnvelope
from .base import BEARER, Blueprint

blp = Blueprint("venues", __name__, url_prefix="/venues", description="Venues and their layouts")


@blp.route("/<id:venue_id>")
@blp.response(200, VenueEnvelope)
@blp.alt_response(403, codes=["forbidden"], description="venues need the role manager")
@blp.alt_response(404, codes=["venue_not_found"], description="no such venue, or not one of the caller's organizations")
@blp.doc(**BEARER)
@jwt_required()
def get_venue(venue_id):
    """One venue with its layout (managers of its organization)."""
    return controller.get(venue_id)
