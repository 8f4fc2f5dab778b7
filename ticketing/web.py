"""The box-office page at `/` and the back office at `/office`: templates plus static files, fed by the public API.

Not part of the API (so not in the OpenAPI document). The page keeps its token in sessionStorage and
sends it as a Bearer header; nothing secret is rendered into it. Its script is native ES modules in
`static/js/` (`main.js` imports the others), with no build step.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, render_template

# Only this origin's own script and styles; the page talks to nothing but this API.
PAGE_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# The page's modules, preloaded together so the browser need not discover them import by import.
# The box office's own modules; the door page (door*.js) and the back office (office/) have theirs,
# with the helpers they share.
_SCRIPTS = sorted(path.name for path in (Path(__file__).parent / "static" / "js").glob("*.js"))
PAGE_MODULES = tuple(name for name in _SCRIPTS if not name.startswith("door"))
DOOR_MODULES = (*(name for name in _SCRIPTS if name.startswith("door")), "api.js", "errors.js")
OFFICE_MODULES = (
    "api.js",
    "errors.js",
    "format.js",
    *sorted(f"office/{path.name}" for path in (Path(__file__).parent / "static" / "js" / "office").glob("*.js")),
)

blp = Blueprint("web", __name__)


@blp.get("/")
def box_office() -> Response:
    # The test cards come from the gateway: only the test gateway has any (a real one charges real cards).
    test_cards = getattr(current_app.extensions["payment_gateway"], "test_cards", ())
    response = Response(
        render_template("index.html", modules=PAGE_MODULES, test_cards=test_cards), mimetype="text/html"
    )
    response.headers["Content-Security-Policy"] = PAGE_CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.get("/office")
def back_office() -> Response:
    """The organizer's page (docs/office.md): organizations, venues, events and their live seat maps."""
    response = Response(render_template("office.html", modules=OFFICE_MODULES), mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.get("/door")
def door() -> Response:
    """The door page (door.md): check tickets in, online and offline. Anyone may load it; the API
    decides who may scan (role door)."""
    response = Response(render_template("door.html", modules=DOOR_MODULES), mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-cache"
    return response


def init_web(app: Flask) -> None:
    """Serve the page; its scripts go out as JavaScript whatever the host's MIME tables say."""
    # Static files get the type Python's mimetypes guesses from the host's tables (the Windows registry
    # may say text/plain for .js); a browser refuses a module served as anything but JavaScript, and
    # the page would not start.
    mimetypes.add_type("text/javascript", ".js")
    mimetypes.add_type("text/javascript", ".mjs")
    app.register_blueprint(blp)
