"""The seat map of an event: the biggest answer, built fast and kept while it is current.

The weak ETag is the event's map version (which moves with every seat change and every lock that
runs out), the status filter and the viewer. The version and whether the viewer may see the event
come from one statement, so a matching If-None-Match is a 304 after that one round trip.

Otherwise the answer is the anonymous map of the event at that version (seat_map_json: straight
from rows to JSON bytes), built once per host and kept as a file the host's workers share and send
with sendfile (map_files; each worker's MapCache keeps the seat index), or kept in the worker's
memory when there is no usable directory. The viewer's own holds (`locked_by_me`,
`lock_expires_at`) are spliced into it per request from one small query, so one map serves every
viewer and none sees another's holds. gzip on request: the anonymous map's is made once with it; a
map with the viewer's holds is compressed per request.
"""

from __future__ import annotations

import gzip
import zlib
from datetime import datetime
from pathlib import Path

from flask import Response, current_app, request
from werkzeug.wsgi import wrap_file

from ..clock import current_time
from ..errors import EventNotFoundError
from ..security import optional_user_id
from ..services import catalogue
from .map_cache import MapCache
from .map_files import CachedMap, MapFiles, StoredMap, default_directory, private_directory
from .seat_map_json import encode_map, pieces, prefix_length, with_holds

_CHUNK = 5_000  # seats read from the database at a time
_GZIP_LEVEL = 1  # a 100,000-seat map: 18.4 MB of JSON, 0.94 MB gzipped in 35 ms (level 5: 0.90 MB in 60 ms)
_FILE_BLOCK = 1 << 20  # read at a time where the server cannot sendfile (TLS in gunicorn, tests)


def map_cache(app) -> MapCache:
    """The app's cache of maps (one per worker process), SEAT_MAP_CACHE_MB in all."""
    cache = app.extensions.get("seat_map_cache")
    if cache is None:
        # dict.setdefault is atomic: threads racing to make the cache all get the one that was stored.
        cache = app.extensions.setdefault("seat_map_cache", MapCache(app.config["SEAT_MAP_CACHE_MB"] << 20))
    return cache


def map_files(app) -> MapFiles | None:
    """The host's shared map files (SEAT_MAP_DIR), or None: not shared (no cache, or no usable directory)."""
    if "seat_map_files" not in app.extensions:
        size = app.config["SEAT_MAP_CACHE_MB"] << 20
        directory = app.config.get("SEAT_MAP_DIR")
        directory = private_directory(Path(directory) if directory else default_directory()) if size else None
        files = MapFiles(directory, app.config["SQLALCHEMY_DATABASE_URI"], size) if directory else None
        app.extensions.setdefault("seat_map_files", files)
    return app.extensions["seat_map_files"]


def _build(event_id: int, status: str | None, now: datetime) -> CachedMap:
    rows = catalogue.seat_map_rows(event_id=event_id, status=status, now=now, chunk_size=_CHUNK)
    encoded = encode_map(event_id, rows, now)
    return CachedMap(encoded, gzip.compress(encoded.body, compresslevel=_GZIP_LEVEL, mtime=0))


def _shared_build(event_id: int, status: str | None, version: str, now: datetime) -> StoredMap | CachedMap:
    """The map at `version`: from the host's other workers if one built it, else built here."""
    files = map_files(current_app)
    if files is None:
        return _build(event_id, status, now)
    return files.load_or_build(f"{event_id}.{status or 'all'}", version, lambda: _build(event_id, status, now))


def event_seat_map(event_id: int, query: dict) -> Response:
    """`GET /events/<id>/seats`: the map, a 304 when the client's copy is current, gzip on request."""
    now, viewer = current_time(), optional_user_id()
    state = catalogue.map_state(event_id=event_id, now=now, viewer_id=viewer)
    if state is None or not state.visible:
        raise EventNotFoundError()  # missing, or a draft of an organization the caller is not in
    status = query.get("status")
    tag = f"{event_id}.{state.version}.{status or 'all'}.{viewer or 0}"
    if request.if_none_match.contains_weak(tag):
        response = Response(status=304)
    else:
        holds = catalogue.viewer_holds(event_id=event_id, viewer_id=viewer, now=now) if viewer else []
        response = _answer(event_id, status, state.version, now, holds, use_gzip="gzip" in request.accept_encodings)
    response.set_etag(tag, weak=True)
    response.headers["Vary"] = "Accept-Encoding, Authorization"
    response.headers.setdefault("Cache-Control", "no-cache")
    return response


def _answer(event_id: int, status: str | None, version: str, now: datetime, holds: list, *, use_gzip: bool):
    """The map at `version`, with the viewer's holds spliced in if they have any in it."""
    cache = map_cache(current_app)
    found = cache.get_or_build((event_id, status), version, lambda: _shared_build(event_id, status, version, now))
    if isinstance(found, CachedMap):
        return _from_memory(found, event_id, holds, use_gzip=use_gzip)
    try:
        return _from_file(found, event_id, holds, use_gzip=use_gzip)
    except FileNotFoundError:
        # A newer version replaced the file since this request read the version: this version
        # once more, for this request alone (writing it back would remove the newer one's file).
        cache.forget((event_id, status), version)
        return _from_memory(_build(event_id, status, now), event_id, holds, use_gzip=use_gzip)


def _json(body, length: int | None = None, *, use_gzip: bool, passthrough: bool = False) -> Response:
    response = Response(body, mimetype="application/json", direct_passthrough=passthrough)
    if length is not None:
        response.content_length = length
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    return response


def _gzip(parts) -> bytes:
    compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: a gzip stream
    return b"".join([compressor.compress(part) for part in parts] + [compressor.flush()])


def _from_memory(found: CachedMap, event_id: int, holds: list, *, use_gzip: bool) -> Response:
    """The map kept in this worker's memory (no shared directory), in slices when spliced."""
    spans, length = with_holds(found.ids, found.ends, prefix_length(event_id), found.length, found.read, holds)
    if len(spans) == 1:  # nothing of the viewer's to add: the anonymous map's own bytes
        return _json(found.gzipped if use_gzip else found.encoded.body, use_gzip=use_gzip)
    if use_gzip:
        return _json(_gzip(pieces(found.read, spans)), use_gzip=True)
    return _json(pieces(found.read, spans), length, use_gzip=False)


def _from_file(found: StoredMap, event_id: int, holds: list, *, use_gzip: bool) -> Response:
    """The map from the host's shared file: sent by the kernel as it is, read in slices when spliced."""
    spans, length = [], found.length
    if holds:
        with found.open(gzipped=False) as source:
            spans, length = with_holds(found.ids, found.ends, prefix_length(event_id), length, source.read_at, holds)
    if len(spans) <= 1:  # nothing of the viewer's in this map: the file's own bytes
        source = found.open(gzipped=use_gzip)
        body = wrap_file(request.environ, source, buffer_size=_FILE_BLOCK)
        return _json(body, source.length, use_gzip=use_gzip, passthrough=True)
    source = found.open(gzipped=False)
    if use_gzip:
        with source:
            return _json(_gzip(pieces(source.read_at, spans)), use_gzip=True)
    response = _json(pieces(source.read_at, spans), length, use_gzip=False)
    response.call_on_close(source.close)  # once sent (the slices are read while sending)
    return response
