"""The box-office page at `/`: one HTML template plus static files, fed by the public API.

Not part of the API (so not in the OpenAPI document). The page keeps its token in sessionStorage and
sends it as a Bearer header; nothing secret is rendered into it.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, render_template

# Only this origin's own script and styles; the page talks to nothing but this API.
PAGE_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

blp = Blueprint("web", __name__)


@blp.get("/")
def box_office() -> Response:
    response = Response(render_template("index.html"), mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-cache"
    return response


def init_web(app: Flask) -> None:
    app.register_blueprint(blp)
