"""Seat maps shared by the worker processes of one host, as files: each version is built once per host.

Without it, every worker builds each new version of a map itself (five workers: five builds of the
same 18 MB). Here the first worker to need a version takes the map's file lock, builds it and writes
it to a file (atomically: a temporary file renamed into place); the others wait on the lock, then
read the file (a few milliseconds) instead of building. Each file holds one version of one map (an
event and a status filter); writing a newer version removes the older, and the directory is kept
under its byte bound by removing the files written longest ago. A reader that has a file open keeps
its data even if the file is removed meanwhile.

The directory is private to the user the server runs as (created with mode 0700; one that is not
owned by that user, or open to others, is not used: anyone who could write there could serve maps).
Its files are named after a digest of the database URL and of the code that writes the JSON
(seat_map_json.py), so two services on one host never share a map, and a new release never serves
a file an older one wrote.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import stat
import struct
import tempfile
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import seat_map_json
from .seat_map_json import MapBody

log = logging.getLogger(__name__)

_MAGIC = b"ticketing seat map 1\n"
_HEADER = struct.Struct("<QQQ")  # seats, gzipped bytes, JSON bytes
_LOCK_WAIT_S = 20.0  # longest wait for another process's build before building here anyway
_STALE_TEMPORARY_S = 120.0  # a temporary file this old was left by a process that died writing it


@dataclass(frozen=True)
class CachedMap:
    """One version of one map as it is served: its JSON (with the seat index) and its gzip."""

    encoded: MapBody
    gzipped: bytes

    @property
    def nbytes(self) -> int:
        return self.encoded.nbytes + len(self.gzipped)


def default_directory() -> Path:
    """A directory on tmpfs when the host has one (/dev/shm), private to this user."""
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    return base / f"ticketing-seat-maps-{os.getuid()}"


def private_directory(path: Path) -> Path | None:
    """`path`, made if missing (mode 0700); None if it cannot be used safely or at all."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = os.stat(path, follow_symlinks=False)
    except OSError as error:
        log.warning("seat maps are not shared between workers: %s", error)
        return None
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        log.warning("seat maps are not shared between workers: %s is not a directory private to this user", path)
        return None
    return path


class MapFiles:
    """The host's shared map files in `directory`, at most `max_bytes` in all."""

    def __init__(self, directory: Path, database_url: str, max_bytes: int) -> None:
        self.directory = directory
        writer = Path(seat_map_json.__file__).read_bytes()
        self.prefix = hashlib.blake2b(database_url.encode() + b"\0" + writer, digest_size=6).hexdigest()
        self.max_bytes = max_bytes

    def _path(self, name: str, version: str) -> Path:
        return self.directory / f"{self.prefix}.{name}.{version}.map"

    def load_or_build(self, name: str, version: str, build: Callable[[], CachedMap]) -> CachedMap:
        """`name` at `version` from its file, or built by `build()` (once on this host) and written."""
        path = self._path(name, version)
        found = _read(path)
        if found is not None:
            return found
        with open(self.directory / f"{self.prefix}.{name}.lock", "a+b") as lock:
            locked = _lock(lock)
            try:
                found = _read(path)  # written by the process that held the lock meanwhile
                if found is not None:
                    return found
                built = build()
                if built.nbytes <= self.max_bytes:
                    self._write(name, path, built)
                return built
            finally:
                if locked:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, name: str, path: Path, built: CachedMap) -> None:
        try:
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".writing-")
            with os.fdopen(handle, "wb") as out:
                ids, ends = built.encoded.ids, built.encoded.ends
                out.write(_MAGIC + _HEADER.pack(len(ids), len(built.gzipped), len(built.encoded.body)))
                ids.tofile(out)
                ends.tofile(out)
                out.write(built.gzipped)
                out.write(built.encoded.body)
            os.replace(temporary, path)
        except OSError as error:  # a full disk or the like: served, not shared
            log.warning("could not share a seat map with the other workers: %s", error)
            return
        for older in self.directory.glob(f"{self.prefix}.{name}.*.map"):
            if older != path:
                older.unlink(missing_ok=True)
        self._prune()

    def _prune(self) -> None:
        """Remove the maps written longest ago past the byte bound, and temporary files left behind."""
        files, now = [], time.time()
        for entry in os.scandir(self.directory):
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if entry.name.startswith(".writing-"):
                if now - info.st_mtime > _STALE_TEMPORARY_S:
                    Path(entry.path).unlink(missing_ok=True)
            elif entry.name.endswith(".map"):
                files.append((info.st_mtime, info.st_size, entry.path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            Path(path).unlink(missing_ok=True)
            total -= size


def _lock(lock) -> bool:
    """Take the map's file lock, waiting for another process's build; False if it took too long."""
    deadline = time.monotonic() + _LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)


def _read(path: Path) -> CachedMap | None:
    try:
        with open(path, "rb") as source:
            if source.read(len(_MAGIC)) != _MAGIC:
                return None
            seats, zipped_length, length = _HEADER.unpack(source.read(_HEADER.size))
            ids, ends = array("q"), array("q")
            ids.fromfile(source, seats)
            ends.fromfile(source, seats)
            gzipped = source.read(zipped_length)
            body = source.read(length)
    except (OSError, EOFError, struct.error):
        return None
    if len(gzipped) != zipped_length or len(body) != length:
        return None
    return CachedMap(MapBody(body, ids, ends), gzipped)
