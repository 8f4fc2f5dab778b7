"""`/docs` renders in Chromium with every request beyond this server cut off: nothing comes from a CDN."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .box_office import expect, shot

pytestmark = pytest.mark.browser


def test_the_docs_render_every_operation_with_the_network_cut(server_factory, contexts):
    check = expect()
    server = server_factory(WORKERS=1)
    context = contexts()
    outside: list[str] = []

    def only_this_server(route, request):
        if urlsplit(request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:  # the network beyond this machine is gone
            outside.append(request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_this_server)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))  # CSP refusals too
    page.goto(f"{server.url}/docs")

    operations = page.locator(".opblock")
    check(operations.first).to_be_visible()
    check(page.locator('.opblock-summary-path[data-path="/tickets/{code}"]')).to_be_visible()
    check(page.locator(".info .title")).to_contain_text("Ticketing API")
    spec_paths = page.evaluate("fetch('/openapi.json').then((r) => r.json()).then((s) => s.paths)")
    documented = sum(len([m for m in methods if m != "parameters"]) for methods in spec_paths.values())
    check(operations).to_have_count(documented)

    page.locator(".opblock-summary-path", has_text="/seats/{seat_id}/lock").first.click()  # open one: its details show
    check(page.locator(".opblock.is-open .responses-wrapper").first).to_be_visible()
    shot(page, "docs-offline")
    assert outside == []
    assert problems == []
