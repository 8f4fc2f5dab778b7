"""`/docs` needs nothing but this application: Swagger UI's files are served from here, by version."""

from __future__ import annotations

import re
from pathlib import Path

from ticketing.api_docs import SWAGGER_UI_URL, SWAGGER_UI_VERSION


def test_the_docs_page_loads_only_files_this_app_serves(client):
    page = client.get("/docs").get_data(as_text=True)
    linked = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert linked and all(url.startswith(SWAGGER_UI_URL) for url in linked), linked
    assert "//" not in page.replace("://", "")  # no protocol-relative or absolute URL to another host
    assert '"validatorUrl": null' in page  # the spec is never sent to an outside validator
    kinds = {}
    for url in linked:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert "immutable" in asset.headers["Cache-Control"]
        kinds[url.rsplit(".", 1)[1]] = asset.mimetype
    assert kinds == {"css": "text/css", "js": "text/javascript"}


def test_only_swagger_uis_own_files_of_this_version_are_served(client):
    assert client.get(f"{SWAGGER_UI_URL}swagger-ui-bundle.js").status_code == 200
    for path in (
        f"{SWAGGER_UI_URL}no-such-file.js",
        f"{SWAGGER_UI_URL}../flask_swagger_ui.py",
        f"{SWAGGER_UI_URL}%2e%2e/flask_swagger_ui.py",
        "/docs/assets/0.0.1/swagger-ui-bundle.js",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["code"] == "not_found"


def test_the_swagger_ui_served_is_the_one_pinned_in_requirements():
    pins = (Path(__file__).resolve().parents[2] / "requirements.txt").read_text().splitlines()
    assert f"flask-swagger-ui=={SWAGGER_UI_VERSION}" in pins
