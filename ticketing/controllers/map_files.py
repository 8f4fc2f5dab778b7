"""Seat maps shared by the worker processes of one host, as files: each version is built once per host.

Without it, every worker builds each new version of a map itself (five workers: five builds of the
same 18 MB) and keeps it in its memory. Here the first worker to need a version takes the map's
file lock, builds it and writes it to a file (atomically: a temporary file renamed into place); the
others wait on the lock, then read only the file's seat index. Every worker answers from the
file: gunicorn hands it to the kernel (sendfile), so the map's bytes never sit in a worker's memory.

Each file holds one version of one map (an event and a status filter); writing a newer version
removes the older, and the directory is kept under its byte bound by removing the files written
longest ago. An answer that has a file open keeps its data even if the file is removed meanwhile.

The directory is private to the user the server runs as (created with mode 0700; one that is not
owned by that user, or open to others, is not used: anyone who could write there could serve maps).
Its files are named after a digest of the database URL and of the code that writes the JSON
(seat_map_json.py), so two services on one host never share a map, and a new release never serves
a file an older one wrote.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
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
    """One version of one map in memory (no shared directory): its JSON, seat index and gzip."""

    encoded: MapBody
    gzipped: bytes

    @property
    def nbytes(self) -> int:
        return self.encoded.nbytes + len(self.gzipped)

    @property
    def ids(self) -> array:
        return self.encoded.ids

    @property
    def ends(self) -> array:
        return self.encoded.ends

    @property
    def length(self) -> int:
        return len(self.encoded.body)

    def read(self, start: int, end: int) -> bytes:
        return self.encoded.body[start:end]


@dataclass(frozen=True)
class StoredMap:
    """One version of one map in a shared file: where its JSON and gzip lie, and its seat index."""

    path: Path
    ids: array
    ends: array
    gzip_at: int
    gzip_length: int
    body_at: int
    length: int

    @property
    def nbytes(self) -> int:
        return self.ids.itemsize * len(self.ids) + self.ends.itemsize * len(self.ends)

    def open(self, *, gzipped: bool) -> FileRange:
        """The gzip or the JSON, to send (raises FileNotFoundError once a newer version replaced it)."""
        # Closed by the answer, once sent.
        if gzipped:
            return FileRange(open(self.path, "rb"), self.gzip_at, self.gzip_length)
        return FileRange(open(self.path, "rb"), self.body_at, self.length)


class FileRange(io.RawIOBase):
    """`length` bytes of an open file from `offset`, for wsgi.file_wrapper: gunicorn sends them with
    sendfile from the file's position (the start) for the answer's Content-Length; other servers
    read() them, which stops at the end of the range."""

    def __init__(self, file, offset: int, length: int) -> None:
        super().__init__()
        self._file, self._end, self.length = file, offset + length, length
        file.seek(offset)

    def fileno(self) -> int:
        return self._file.fileno()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, position: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(position, whence)

    def tell(self) -> int:
        return self._file.tell()

    def read(self, size: int | None = -1) -> bytes:
        left = self._end - self._file.tell()
        if left <= 0:
            return b""
        return self._file.read(left if size is None or size < 0 else min(size, left))

    def read_at(self, start: int, end: int) -> bytes:
        """Bytes `start` to `end` of the range (for splicing), wherever the file's position is."""
        return os.pread(self._file.fileno(), end - start, self._end - self.length + start)

    def close(self) -> None:
        self._file.close()
        super().close()


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

    def load_or_build(self, name: str, version: str, build: Callable[[], CachedMap]) -> StoredMap | CachedMap:
        """`name` at `version` from its file, or built by `build()` (once on this host) and written;
        the map in memory only when it could not be written (too big for the bound, a full disk)."""
        path = self._path(name, version)
        found = _read_index(path)
        if found is not None:
            return found
        with open(self.directory / f"{self.prefix}.{name}.lock", "a+b") as lock:
            locked = _lock(lock)
            try:
                found = _read_index(path)  # written by the process that held the lock meanwhile
                if found is not None:
                    return found
                built = build()
                if built.nbytes > self.max_bytes or not self._write(name, path, built):
                    return built
                at = len(_MAGIC) + _HEADER.size + built.ids.itemsize * len(built.ids) * 2
                gzip_length = len(built.gzipped)
                return StoredMap(path, built.ids, built.ends, at, gzip_length, at + gzip_length, built.length)
            finally:
                if locked:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, name: str, path: Path, built: CachedMap) -> bool:
        """Write the map (header, seat index, gzip, JSON) as `path`, atomically; False if it failed."""
        temporary = None
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
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
            return False
        for older in self.directory.glob(f"{self.prefix}.{name}.*.map"):
            if older != path:
                older.unlink(missing_ok=True)
        self._prune(keep=path)
        return True

    def _prune(self, keep: Path) -> None:
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
            if path != str(keep):
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


def _read_index(path: Path) -> StoredMap | None:
    """The file's seat index and where its parts lie; None: no such file, or not a whole one."""
    try:
        with open(path, "rb") as source:
            if source.read(len(_MAGIC)) != _MAGIC:
                return None
            seats, zipped_length, length = _HEADER.unpack(source.read(_HEADER.size))
            ids, ends = array("q"), array("q")
            ids.fromfile(source, seats)
            ends.fromfile(source, seats)
            gzip_at = source.tell()
            size = os.fstat(source.fileno()).st_size
    except (OSError, EOFError, struct.error):
        return None
    if size != gzip_at + zipped_length + length:
        return None
    return StoredMap(path, ids, ends, gzip_at, zipped_length, gzip_at + zipped_length, length)
