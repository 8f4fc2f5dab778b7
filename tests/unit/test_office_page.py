"""The back office (/office, ticketing/static/js/office/) checked without a browser: served under the page's
policy with every module preloaded, imports that resolve, only the box office's helpers that need none of its
page, and only error codes errors.js has a sentence for. The browser tests are tests/browser/test_office.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import ticketing
from ticketing import create_app
from ticketing.web import OFFICE_MODULES, PAGE_CONTENT_SECURITY_POLICY

from .test_page_script import _sentences

JS = Path(ticketing.__file__).resolve().parent / "static" / "js"
OFFICE = JS / "office"
# The box office's modules the back office may share: they touch no element of the box-office page.
SHARED = {"api.js", "errors.js", "format.js"}
IMPORT = re.compile(r'^import [^;]+ from "([^"]+)";', re.MULTILINE)


def test_the_back_office_loads_its_modules_as_javascript_under_the_policy():
    app = create_app({"APP_ENV": "testing", "TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    client = app.test_client()
    page = client.get("/office")
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == PAGE_CONTENT_SECURITY_POLICY
    html = page.get_data(as_text=True)
    assert re.findall(r"<script\b[^>]*>", html) == ['<script type="module" src="/static/js/office/main.js">']
    assert "style=" not in html  # the policy refuses inline styles
    office = {f"office/{path.name}" for path in OFFICE.glob("*.js")}
    assert set(OFFICE_MODULES) == office | SHARED
    for name in OFFICE_MODULES:
        assert f'<link rel="modulepreload" href="/static/js/{name}">' in html
        script = client.get(f"/static/js/{name}")
        assert script.status_code == 200 and script.mimetype == "text/javascript", name
    assert client.get("/static/office.css").status_code == 200


def test_every_import_resolves_and_only_page_free_helpers_are_shared():
    for path in OFFICE.glob("*.js"):
        for target in IMPORT.findall(path.read_text()):
            resolved = (path.parent / target).resolve()
            assert resolved.is_file(), f"{path.name} imports {target}, which does not exist"
            if resolved.parent == JS:
                assert resolved.name in SHARED, f"{path.name} imports the box office's {resolved.name}"
    for name in SHARED:  # and those import nothing of the box office's page either
        for target in IMPORT.findall((JS / name).read_text()):
            assert Path(target).name in SHARED, f"{name} imports {target}"


def test_the_codes_the_back_office_reacts_to_have_sentences():
    known = set(_sentences())
    named = set()
    for path in OFFICE.glob("*.js"):
        source = path.read_text()
        named.update(re.findall(r'error\.code === "(\w+)"', source))
        named.update(re.findall(r"MESSAGES\.(\w+)", source))
    assert {"validation_error", "seats_unavailable"} <= named
    assert named <= known, f"codes the back office names but errors.js has no sentence for: {sorted(named - known)}"
