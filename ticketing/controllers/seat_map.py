"""The seat map of an event: the biggest answer, built fast and served from cache when unchanged.

No marshmallow dump (100,000 seats): rows go straight to orjson, in chunks to keep memory flat.
The weak ETag is the event's map version (which moves with every seat change and every lock that
runs out), the status filter and the viewer; a matching If-None-Match is a 304 without touching
the seats. Anonymous maps are cached per app (so per worker process), raw and gzipped, by that ETag;
the threads of a gthread worker share that cache, so it is guarded by a lock.
"""

from __future__ import annotations

import gzip
import threading
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

Bodies = tuple[bytes, bytes]  # the map's JSON, raw and gzipped


class MapCache:
    """The most recently used maps by ETag, safe to share between threads.

    A lookup moves its entry to the end and a store evicts the oldest: both change the OrderedDict,
    so every access holds the lock (without it, two threads can pop and move the same key at once).
    Maps are built outside the lock, so one thread's build never holds up another's hit.
    """

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[str, Bodies] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tag: str) -> Bodies | None:
        """The bodies cached under `tag`, or None; a hit becomes the most recently used."""
        with self._lock:
            bodies = self._entries.get(tag)
            if bodies is not None:
                self._entries.move_to_end(tag)
            return bodies

    def put(self, tag: str, bodies: Bodies) -> None:
        """Keep `bodies` under `tag`, forgetting the least recently used beyond the size."""
        with self._lock:
            self._entries[tag] = bodies
            self._entries.move_to_end(tag)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


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


def map_cache(app) -> MapCache:
    """The app's cache of anonymous maps (one per worker process)."""
    # dict.setdefault is atomic: threads racing to make the cache all get the one that was stored.
    return app.extensions.setdefault("seat_map_cache", MapCache())


def _bodies(tag: str, event_id: int, status: str | None, now: datetime, viewer: int | None) -> Bodies:
    cache = map_cache(current_app) if viewer is None else None
    if cache is not None:
        cached = cache.get(tag)
        if cached is not None:
            return cached
    raw = _build(event_id, status, now, viewer)
    bodies = (raw, gzip.compress(raw, compresslevel=5))
    if cache is not None:
        cache.put(tag, bodies)
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
