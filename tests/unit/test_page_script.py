"""The box-office page's script (ticketing/static/js/) checked against the server, without a browser.

Every error code the server can answer has a sentence in the page's one list; a seat's state changes
in one function only; the modules go out as JavaScript, which a browser requires of a module.
"""

from __future__ import annotations

import importlib
import mimetypes
import pkgutil
import re
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.exceptions import default_exceptions

import ticketing
from ticketing import create_app
from ticketing.errors import TicketingError, render_http_exception, render_unexpected
from ticketing.web import DOOR_MODULES, PAGE_CONTENT_SECURITY_POLICY, PAGE_MODULES

PACKAGE = Path(ticketing.__file__).resolve().parent
SCRIPTS = PACKAGE / "static" / "js"
PAGE_ONLY_CODES = {"network"}  # the page's own, for a request that never reached the server
ENTRY = re.compile(r'^\s*([a-z][a-z0-9_]*): "[^"]+",$')


def _sentences() -> list[str]:
    """The codes of errors.js's MESSAGES, in order (repeats kept: JavaScript would silently keep the last)."""
    source = (SCRIPTS / "errors.js").read_text()
    block = re.search(r"^export const MESSAGES = Object\.freeze\(\{\n(.*?)\n\}\);$", source, re.M | re.S)
    assert block, "errors.js no longer has `export const MESSAGES = Object.freeze({ ... });`"
    codes = []
    for line in block.group(1).splitlines():
        if not line.strip() or line.strip().startswith("//"):
            continue
        entry = ENTRY.match(line)
        assert entry, f'not a `code: "sentence",` line in MESSAGES: {line!r}'
        codes.append(entry.group(1))
    return codes


def _error_classes() -> set[type[TicketingError]]:
    for module in pkgutil.walk_packages(ticketing.__path__, "ticketing."):
        importlib.import_module(module.name)  # every subclass the package defines, wherever it lives
    found, todo = set(), [TicketingError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("ticketing"):
            found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def _server_codes() -> set[str]:
    """Every code the server can answer: its error classes, its HTTP error handler, its last resort."""
    codes = {cls.code for cls in _error_classes()}
    with Flask(__name__).test_request_context():
        for exception in default_exceptions.values():  # routing, size limits, rate limits, ...
            codes.add(render_http_exception(exception()).get_json()["code"])
        codes.add(render_unexpected(RuntimeError("a bug"))[0].get_json()["code"])
    # A code written straight into an answer anywhere in the package (say, the token callbacks).
    for path in PACKAGE.rglob("*.py"):
        codes.update(re.findall(r"""["']code["']\s*:\s*["']([a-z][a-z0-9_]*)["']""", path.read_text()))
    return codes


def test_every_error_the_server_can_answer_has_one_plain_sentence_on_the_page():
    sentences = _sentences()
    assert len(sentences) == len(set(sentences)), "a code appears twice in MESSAGES"
    server = _server_codes()
    assert {"seat_locked", "validation_error", "rate_limited", "method_not_allowed", "internal_error"} <= server
    missing = server - set(sentences)
    assert not missing, f"server error codes without a sentence in static/js/errors.js: {sorted(missing)}"
    unknown = set(sentences) - server - PAGE_ONLY_CODES
    assert not unknown, f"sentences for codes the server never answers: {sorted(unknown)}"


def test_the_codes_the_page_reacts_to_are_codes_it_has_sentences_for():
    known = set(_sentences())
    named = set()
    for path in SCRIPTS.glob("*.js"):
        source = path.read_text()
        named.update(re.findall(r'error\.code === "(\w+)"', source))
        named.update(re.findall(r"MESSAGES\.(\w+)", source))
        for name in re.findall(r"(\w+)\.includes\(error\.code\)", source):
            listed = re.search(rf"const {name} = \[([^\]]*)\]", source)
            assert listed, f"{path.name}: {name} is not a list of codes in the same file"
            named.update(re.findall(r'"(\w+)"', listed.group(1)))
    assert {"payment_declined", "seat_locked", "validation_error"} <= named
    assert named <= known, f"codes the page names but has no sentence for: {sorted(named - known)}"


def _function_body(source: str, name: str) -> tuple[int, int]:
    start = source.index(f"export function {name}(")
    depth, opening = 0, source.index("{", source.index(")", start))
    for position in range(opening, len(source)):
        depth += {"{": 1, "}": -1}.get(source[position], 0)
        if depth == 0:
            return start, position
    raise AssertionError(f"{name} has no end")


def test_only_set_seat_changes_a_seat_and_repaints_it():
    # An assignment to a seat's state (ApiError's own `this.status` aside).
    change = re.compile(r"(?<!\bthis)\.(status|mine|expiresAt|stamp)\s*=(?!=)")
    seatmap = (SCRIPTS / "seatmap.js").read_text()
    start, end = _function_body(seatmap, "setSeat")
    assert {"status", "mine", "expiresAt", "stamp"} <= set(change.findall(seatmap[start:end]))
    assert "node.className =" in seatmap[start:end]  # and it repaints the seat
    elsewhere = [
        f"{path.name}: {source[match.start() - 20 : match.end()].strip()}"
        for path in sorted(SCRIPTS.glob("*.js"))
        for source in [path.read_text()]
        for match in change.finditer(source)
        if not (path.name == "seatmap.js" and start <= match.start() < end)
    ]
    assert elsewhere == [], "seat state changed outside setSeat"


@pytest.fixture
def host_says_js_is_text():
    """A host whose MIME tables call .js files text/plain (as some Windows registries do)."""
    before = mimetypes.guess_type("page.js")[0]
    mimetypes.add_type("text/plain", ".js")
    yield
    mimetypes.add_type(before, ".js")


def test_the_page_loads_its_modules_as_javascript_under_its_policy(host_says_js_is_text):
    app = create_app({"APP_ENV": "testing", "TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    client = app.test_client()
    page = client.get("/")
    assert page.headers["Content-Security-Policy"] == PAGE_CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in PAGE_CONTENT_SECURITY_POLICY
    html = page.get_data(as_text=True)
    assert re.findall(r"<script\b[^>]*>", html) == ['<script type="module" src="/static/js/main.js">']
    assert set(PAGE_MODULES) | set(DOOR_MODULES) == {path.name for path in SCRIPTS.glob("*.js")}
    assert "main.js" in PAGE_MODULES and not [name for name in PAGE_MODULES if name.startswith("door")]
    for name in PAGE_MODULES:
        assert f'<link rel="modulepreload" href="/static/js/{name}">' in html
        script = client.get(f"/static/js/{name}")
        assert script.status_code == 200
        assert script.mimetype == "text/javascript", name


def test_the_door_page_loads_its_own_modules_under_the_same_policy(host_says_js_is_text):
    app = create_app({"APP_ENV": "testing", "TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    client = app.test_client()
    page = client.get("/door")
    assert page.status_code == 200 and page.headers["Content-Security-Policy"] == PAGE_CONTENT_SECURITY_POLICY
    html = page.get_data(as_text=True)
    assert re.findall(r"<script\b[^>]*>", html) == ['<script type="module" src="/static/js/door.js">']
    assert "door.js" in DOOR_MODULES
    for name in DOOR_MODULES:
        assert f'<link rel="modulepreload" href="/static/js/{name}">' in html
        assert client.get(f"/static/js/{name}").mimetype == "text/javascript", name


def test_the_box_office_links_to_the_staff_pages_which_exist():
    app = create_app({"APP_ENV": "testing", "TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    for path in ("/office", "/door"):
        assert f'href="{path}"' in page
        assert client.get(path).status_code == 200
