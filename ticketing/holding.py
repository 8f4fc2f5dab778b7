"""Holding a request without a thread: the app's side of holding_worker.py's contract.

A server that can keep a request's connection open without a thread (holding_worker.py) puts a
`hold` callable in the WSGI environ. A view that would otherwise block calls it instead, with a
`subscribe(resume)` that arranges for `resume()` to be called (once, from any thread) when the
request should be answered, and a state of its own. The server then drops the view's answer, keeps
the connection, and on `resume()` runs the same request through the app again, with that state in
the environ (`held_state()`): the view reads it and answers, or holds again.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, g, request

HOLD = "ticketing.hold"  # environ: hold(state, subscribe) -> bool, from a server that can hold
HELD = "ticketing.held"  # environ: the state this request was held with, when it is run again

Subscribe = Callable[[Callable[[], None]], None]


def can_hold() -> bool:
    """True when the server serving this request can hold it without a thread."""
    return HOLD in request.environ


def held_state() -> dict | None:
    """The state given to `hold` when this request was held before; None on its first run."""
    return request.environ.get(HELD)


def hold(state: dict, subscribe: Subscribe) -> bool:
    """Ask the server to hold this request until `subscribe`'s callback fires.

    True: held (the view's answer is dropped; return `held_response()`). False: the server cannot
    hold it now (it is stopping): answer at once. `subscribe` raising leaves nothing held.
    """
    state = {**state, "request_id": g.get("request_id"), "started": g.get("request_started")}
    held = request.environ[HOLD](state, subscribe)
    g.held = held
    return held


def held_response() -> Response:
    """What a held request's view returns: the server throws it away."""
    return Response(status=204)
