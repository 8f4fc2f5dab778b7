#!/usr/bin/env python3
"""The live seat map's figures: the page in headless Chromium, and what watching costs the server.

    make bench-browser              # or: .venv/bin/python bench/browser.py [--samples 20] [--watchers 200]

gunicorn on PostgreSQL (BENCH_DATABASE_URL, a fresh `ticketing_bench` database, as bench/run.py),
CHANGES_POLL_MS at its default (500 ms). Prints:
  (a) a 20,000-seat event: time from navigation to the map on screen (drawn, laid out and painted), of
      which the drawing's script and layout, DOM nodes and JS heap after it;
  (b) a click on a seat of that map until it shows as held (lock round trip and repaint);
  (a) and (b) again for the example arena (docs/layouts/arena.json, 20,000 seats drawn where the layout
      puts them, in sections and price categories), an organizer's event made through the API;
  (c) another user's lock (over HTTP) until a watching page colours the seat: p50, p95, max;
  (d) the server's CPU while N pages' worth of held change-feed requests wait on an idle event,
      against the same server with none.
Needs Debian's Chromium (/usr/bin/chromium) and a PostgreSQL server.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import requests
from run import Server, fresh_database, log, register_users, seed

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def cpu_seconds(server: Server) -> float:
    """User + system CPU time of the master and its workers so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in [server.process.pid, *server.worker_pids()]:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def page_figures(
    base: str, event_id: int, seat_ids: list[int], tokens: list[str], samples: int, title: str, watch: bool = True
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        # bypass_csp: the page's policy forbids eval, which Playwright's wait_for_function uses.
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        # Signed in as the first bench user, through sessionStorage as the page keeps it.
        stored = json.dumps(json.dumps({"access_token": tokens[0]}))
        context.add_init_script(f"sessionStorage.setItem('ticketing.tokens', {stored})")
        page = context.new_page()
        started = time.perf_counter()
        page.goto(f"{base}/?event={event_id}")
        page.wait_for_function("performance.getEntriesByName('map-shown').length > 0", timeout=120_000)
        wall = time.perf_counter() - started
        marks = page.evaluate(
            "['map-drawing', 'map-drawn', 'map-shown'].map((name) => performance.getEntriesByName(name)[0].startTime)"
        )
        drawing_at, drawn_at, shown_at = marks
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        log(
            f"(a) {title}: map on screen {shown_at:.0f} ms after navigation starts ({wall * 1000:.0f} ms as the "
            f"test driver saw it; the seats arrived at {drawing_at:.0f} ms, drawing took {drawn_at - drawing_at:.0f} "
            f"ms of script and {shown_at - drawn_at:.0f} ms of layout and paint); {metrics['Nodes']:.0f} DOM nodes, "
            f"JS heap {metrics['JSHeapUsedSize'] / 1e6:.1f} MB"
        )

        # Clicked in the page itself and timed there, from the click to the seat's new colour.
        clicks = []
        for index in range(samples):
            seat_id = seat_ids[-1 - index]
            for wanted in ("mine", "available"):  # hold it, then let it go again
                took = page.evaluate(
                    """([seatId, wanted]) => new Promise((done) => {
                      const node = document.querySelector(`.seat[data-seat-id="${seatId}"]`);
                      const started = performance.now();
                      new MutationObserver((records, observer) => {
                        if (node.dataset.status !== wanted) return;
                        observer.disconnect();
                        done(performance.now() - started);
                      }).observe(node, {attributes: true, attributeFilter: ['data-status']});
                      node.click();
                    })""",
                    [seat_id, wanted],
                )
                if wanted == "mine":
                    clicks.append(took)
        log(
            f"(b) {title}: click to held, {samples} clicks: p50 {statistics.median(clicks):.0f} ms, "
            f"max {max(clicks):.0f} ms (the lock's round trip and the repaint, timed in the page)"
        )

        if not watch:
            browser.close()
            return
        # The watching page records, by the wall clock, when each seat turns "locked".
        page.evaluate(
            """() => {
              window.__seen = {};
              new MutationObserver((records) => {
                for (const record of records) {
                  const node = record.target;
                  if (node.dataset.status === 'locked' && !(node.dataset.seatId in window.__seen)) {
                    window.__seen[node.dataset.seatId] = Date.now();
                  }
                }
              }).observe(document.getElementById('map'), {attributes: true, subtree: true,
                                                          attributeFilter: ['data-status']});
            }"""
        )
        other = {"Authorization": f"Bearer {tokens[1]}"}
        sent: dict[int, float] = {}
        with requests.Session() as session:
            for index in range(samples):
                seat_id = seat_ids[1000 + index * 7]
                time.sleep(0.137 * (index % 5) + 0.05)  # land at different points of the poll interval
                sent[seat_id] = time.time() * 1000
                assert session.post(f"{base}/seats/{seat_id}/lock", headers=other).status_code == 200
        page.wait_for_function(f"Object.keys(window.__seen).length >= {samples}", timeout=30_000)
        seen = page.evaluate("window.__seen")
        delays = [seen[str(seat_id)] - at for seat_id, at in sent.items()]
        log(
            f"(c) another user's lock to the colour change, {samples} locks: p50 {statistics.median(delays):.0f} ms, "
            f"p95 {percentile(delays, 0.95):.0f} ms, max {max(delays):.0f} ms (CHANGES_POLL_MS 500)"
        )
        browser.close()


def arena_event(base: str, token: str) -> int:
    """An organizer's event on sale at the example arena, made through the API as an organizer makes one."""
    headers = {"Authorization": f"Bearer {token}"}
    layout = json.loads((Path(__file__).resolve().parent.parent / "docs" / "layouts" / "arena.json").read_text())

    def post(path: str, body: object) -> dict:
        data = json.dumps(body, separators=(",", ":"))
        response = requests.post(
            base + path, data=data, headers={**headers, "Content-Type": "application/json"}, timeout=120
        )
        assert response.status_code in (200, 201), response.text[:500]
        return response.json()

    organization = post("/organizations", {"name": "Arena company"})["organization"]["id"]
    venue = post(f"/organizations/{organization}/venues", {"name": "Arena", "layout": layout})["venue"]["id"]
    starts_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 30 * 86400))
    event = post(
        f"/organizations/{organization}/events",
        {
            "name": "Arena night",
            "venue_id": venue,
            "starts_at": starts_at,
            "categories": [{"name": "Lower", "price": "60.00"}, {"name": "Upper", "price": "35.00"}],
            "default_price": "90.00",
        },
    )["event"]["id"]
    post(f"/events/{event}/publish", {})
    return event


def watching_cost(base: str, server: Server, event_id: int, watchers: int, seconds: float) -> None:
    cursor = requests.get(f"{base}/events/{event_id}/changes").json()["cursor"]
    before = cpu_seconds(server)
    time.sleep(seconds)
    idle = (cpu_seconds(server) - before) / seconds

    stop = threading.Event()
    answers = [0]
    count = threading.Lock()

    def watcher() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                response = session.get(f"{base}/events/{event_id}/changes", params={"since": cursor, "wait": 5})
                with count:
                    answers[0] += 1
                assert response.status_code == 200, response.text

    threads = [threading.Thread(target=watcher, daemon=True) for _ in range(watchers)]
    for thread in threads:
        thread.start()
    time.sleep(2)  # all of them held
    before = cpu_seconds(server)
    time.sleep(seconds)
    busy = (cpu_seconds(server) - before) / seconds
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    log(
        f"(d) server CPU with no page watching: {idle * 1000:.0f} ms/s; with {watchers} held feed requests on "
        f"one event: {busy * 1000:.0f} ms/s ({answers[0]} answers, each after its 5 s wait ran out)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--watchers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10, help="length of each CPU measurement in (d)")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        log(f"Chromium is not installed at {CHROMIUM}: apt-get install chromium")
        return 2

    # Every watcher of (d) comes from this one address: let it hold them all (the default allows 20 per worker).
    os.environ.setdefault("MAX_HELD_FEEDS_PER_ADDRESS", "1000")
    fresh_database()
    event_id, _ = seed("Hall (20,000 seats)", "A-CV", 200, price="30")
    quiet_event, _ = seed("Quiet", "A", 10)
    # Held requests hold a thread each: 4 workers x 64 threads leaves room for the watchers.
    server = Server(["--workers", "4", "--threads", "64"])
    try:
        base = server.url
        seat_ids = [seat["id"] for seat in requests.get(f"{base}/events/{event_id}/seats").json()["seats"]]
        tokens = register_users(base, 2, "page")
        log(f"gunicorn 4 workers x 64 threads on PostgreSQL; {os.cpu_count()} cores")
        page_figures(base, event_id, seat_ids, tokens, args.samples, "20,000 seats in rows (seed-seats)")
        arena = arena_event(base, tokens[1])
        arena_ids = [seat["id"] for seat in requests.get(f"{base}/events/{arena}/seats").json()["seats"]]
        page_figures(base, arena, arena_ids, tokens, args.samples, "arena, 20,000 seats on its plan", watch=False)
        watching_cost(base, server, quiet_event, args.watchers, args.seconds)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
