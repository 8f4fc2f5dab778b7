"""The seat map of an event: the biggest answer, built fast and served from cache when unchanged.

No marshmallow dump (100,000 seats): rows go straight to orjson, in chunks to keep memory flat.
The weak ETag is the event's map version (which moves with every seat change and every lock that
runs out), the status filter and the viewer; a matching If-None-Match is a 304 without touching
the seats. Anonymous maps are cached per app (so per worker process), raw and gzipped, by that ETag.
"""

from __future__ import annotations

import gzip
from collections import OrderedDict
from datetime import datetime

import orjson
from flask import Response, current_app, request

from ..clock import current_time
from ..errors import EventNotFoundError
from ..security import optional_user_id
from ..services import catalogue
from .presenters import seat_json

_CHUNK = 10_000
_CACHE_SIZE = 4  # maps of 100,000 seats are about 10 MB raw, 1 MB gzipped


def _chunk_json(rows, now: datetime, viewer: int | None) -> bytes:
    # The same presenter as every other seat answer: one rule for who learns `locked_by_me`.
    seats = [seat_json(row, now=now, viewer_id=viewer) for row in rows]
    return orjson.dumps(seats)[1:-1]  # the items, without the list's brackets


def _build(event_id: int, status: str | None, now: datetime, viewer: int | None) -> bytes:
    rows_in_chunks = catalogue.seat_map_rows(
        event_id=event_id, status=status, now=now, chunk_size=_CHUNK, viewer_id=viewer
    )
    parts = [_chunk_json(rows, now, viewer) for rows in rows_in_chunks]
    return b'{"event_id":%d,"seats":[%s]}' % (event_id, b",".join(part for part in parts if part))


def _bodies(tag: str, event_id: int, status: str | None, now: datetime, viewer: int | None) -> tuple[bytes, bytes]:
    cache: OrderedDict[str, tuple[bytes, bytes]] = current_app.extensions.setdefault("seat_map_cache", OrderedDict())
    if viewer is None and tag in cache:
        cache.move_to_end(tag)
        return cache[tag]
    raw = _build(event_id, status, now, viewer)
    bodies = (raw, gzip.compress(raw, compresslevel=5))
    if viewer is None:
        cache[tag] = bodies
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    return bodies


def event_seat_map(event_id: int, query: dict) -> Response:
    """`GET /events/<id>/seats`: the map, a 304 when the client's copy is current, gzip on request."""
    now, viewer = current_time(), optional_user_id()
    if not catalogue.event_is_visible(event_id=event_id, viewer_id=viewer):
        raise EventNotFoundError()  # missing, or a draft of an organization the caller is not in
    version = catalogue.map_version(event_id=event_id, now=now)
    if version is None:
        raise EventNotFoundError()
    status = query.get("status")
    tag = f"{event_id}.{version}.{status or 'all'}.{viewer or 0}"
    if request.if_none_match.contains_weak(tag):
        response = Response(status=304)
    else:
        raw, zipped = _bodies(tag, event_id, status, now, viewer)
        use_gzip = "gzip" in request.accept_encodings
        response = Response(zipped if use_gzip else raw, mimetype="application/json")
        if use_gzip:
            response.headers["Content-Encoding"] = "gzip"
    response.set_etag(tag, weak=True)
    response.headers["Vary"] = "Accept-Encoding, Authorization"
    response.headers.setdefault("Cache-Control", "no-cache")
    return response
