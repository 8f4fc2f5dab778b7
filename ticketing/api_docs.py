"""`/docs`: the OpenAPI document rendered by Swagger UI, served entirely by this application.

flask-smorest renders the page; its script and styles come from the pinned flask-swagger-ui package
(whose `dist/` folder is Swagger UI's own build), never from a CDN, so the docs work offline and
behind a firewall. The asset URLs carry the package's version, so they may be cached for good.
"""

from __future__ import annotations

from importlib import metadata, resources

from flask import Blueprint, Flask, Response, abort, send_from_directory

SWAGGER_UI_PACKAGE = "flask-swagger-ui"
SWAGGER_UI_VERSION = metadata.version(SWAGGER_UI_PACKAGE)
SWAGGER_UI_DIST = resources.files("flask_swagger_ui") / "dist"
SWAGGER_UI_URL = f"/docs/assets/{SWAGGER_UI_VERSION}/"
_A_YEAR = 365 * 24 * 3600

blp = Blueprint("api_docs", __name__)


@blp.get("/docs/assets/<version>/<path:filename>")
def swagger_ui_asset(version: str, filename: str) -> Response:
    """One file of Swagger UI's build (a JSON 404 for anything else)."""
    if version != SWAGGER_UI_VERSION:
        abort(404)
    response = send_from_directory(str(SWAGGER_UI_DIST), filename, max_age=_A_YEAR)
    response.headers["Cache-Control"] = f"public, max-age={_A_YEAR}, immutable"
    return response


def docs_settings() -> dict:
    """The flask-smorest settings that put the rendered docs at /docs with the assets above."""
    return {
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": SWAGGER_UI_URL,
        # No spec validator badge: it would send the document to an outside service.
        "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
    }


def init_api_docs(app: Flask) -> None:
    """Serve Swagger UI's files beside the docs page."""
    app.register_blueprint(blp)
