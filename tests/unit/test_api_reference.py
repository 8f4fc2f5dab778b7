"""docs/api.md, the OpenAPI document and the server agree: the same routes, every error code in both,
each route's error answers with their codes, no unused schema, no link out of the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ticketing import create_app
from ticketing.openapi import STATUS_CODES

from .test_page_script import _server_codes

ROOT = Path(__file__).resolve().parents[2]
API_MD = ROOT / "docs" / "api.md"
METHODS = {"get", "post", "put", "patch", "delete"}
ROUTE_HEADING = re.compile(r"^#{2,4} `(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`", re.M)


@pytest.fixture(scope="module")
def spec() -> dict:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "APP_ENV": "testing"})
    return app.test_client().get("/openapi.json").get_json()


def _spec_routes(spec: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops if method in METHODS}


def _resolve(spec: dict, item: dict) -> dict:
    while "$ref" in item:
        section, name = item["$ref"].split("/")[-2:]
        item = spec["components"][section][name]
    return item


def test_every_route_of_the_openapi_document_is_in_docs_api_md_and_no_other(spec):
    documented = set(ROUTE_HEADING.findall(API_MD.read_text()))
    served = _spec_routes(spec)
    assert not served - documented, f"routes missing from docs/api.md: {sorted(served - documented)}"
    assert not documented - served, f"docs/api.md documents routes the API does not have: {sorted(documented - served)}"


def test_every_error_code_the_server_can_answer_is_in_docs_api_md_and_in_the_openapi_document(spec):
    text, document = API_MD.read_text(), json.dumps(spec)
    codes = _server_codes()
    assert {"seat_locked", "payment_declined", "internal_error"} <= codes
    missing = [c for c in codes if not re.search(rf"(?<![a-z_]){c}(?![a-z_])", text)]
    assert not missing, f"codes missing from docs/api.md: {missing}"
    assert not [c for c in codes if c not in document], "codes missing from /openapi.json"


def test_each_error_answer_of_each_route_lists_its_codes_and_only_real_ones(spec):
    server = _server_codes()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method not in METHODS:
                continue
            for status, response in op["responses"].items():
                if status == "default" or int(status) < 400:
                    continue
                schema = _resolve(spec, response)["content"]["application/json"]["schema"]
                codes = schema.get("properties", {}).get("code", {}).get("enum")
                assert codes, f"{method.upper()} {path} {status}: no list of codes"
                assert set(codes) <= server, f"{method.upper()} {path} {status}: unknown codes {codes}"
                for code in codes:
                    assert code in _resolve(spec, response)["description"]
    assert set(spec["paths"]["/lock/{seat_id}"]["post"]["responses"]) >= {"200", "401", "404", "409", "503"}
    assert set(STATUS_CODES[503]) == {"busy", "database_unavailable"}


def test_the_document_describes_the_api_its_auth_errors_and_money(spec):
    description = spec["info"]["description"]
    for words in ("Bearer", "`{code, message}`", "two decimals"):
        assert words in description


def test_every_schema_in_components_is_used_by_some_route(spec):
    schemas = spec["components"]["schemas"]
    used, todo = set(), [json.dumps(spec["paths"])]
    while todo:
        for kind, name in re.findall(r'"#/components/(\w+)/([^"]+)"', todo.pop()):
            if (kind, name) not in used:
                used.add((kind, name))
                todo.append(json.dumps(spec["components"][kind][name]))
    unused = sorted(name for name in schemas if ("schemas", name) not in used)
    assert not unused, f"schemas no route uses: {unused}"


def test_the_docs_link_to_nothing_outside_the_repository():
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = path.read_text()
        for outside in ("../shared", "shared/API.md", "DESIGN.md"):
            assert outside not in text, f"{path.relative_to(ROOT)} names {outside}"
        for target in re.findall(r"\]\(([^)#]+)", text):
            if not target.startswith(("http://", "https://")):
                assert (path.parent / target).resolve().is_relative_to(ROOT), f"{path.name} links to {target}"
