"""Each worker's encoded seat maps: the latest version of each (event, status filter), bounded in bytes.

A map is keyed by what it shows (event and status filter) and stored with its version: a newer
version replaces the older one, so the cache never holds two copies of one map. The maps of the
least recently used keys go first once the stored bytes pass `max_bytes`; a map bigger than the
bound by itself is served but not kept. The threads of a gthread worker share it, and build each
version once: a thread asking for a version another thread is building waits for that build
instead of starting its own (so a change to a busy map costs one build per worker, not one per
request in flight).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Protocol


class Sized(Protocol):
    @property
    def nbytes(self) -> int: ...


@dataclass
class _Build:
    done: threading.Event = field(default_factory=threading.Event)
    value: Sized | None = None


class MapCache:
    """Maps by key, each at one version, at most `max_bytes` in all (0: nothing is kept)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[str, Sized]] = OrderedDict()
        self._bytes = 0
        self._builds: dict[tuple[Hashable, str], _Build] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: str) -> Sized | None:
        """The map of `key` at `version`, or None; a hit becomes the most recently used."""
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] != version:
                return None
            self._entries.move_to_end(key)
            return found[1]

    def get_or_build(self, key: Hashable, version: str, build: Callable[[], Sized]) -> Sized:
        """The map of `key` at `version`: from the cache, from another thread's build of it, or
        built here by `build()` (and kept, if it fits)."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] == version:
                self._entries.move_to_end(key)
                return found[1]
            pending = self._builds.get((key, version))
            building = pending is None
            if building:
                pending = self._builds[key, version] = _Build()
        if not building:
            pending.done.wait()
            if pending.value is not None:
                return pending.value
            return build()  # that build failed: try again here (its error, if any, is this request's)
        try:
            pending.value = build()
        finally:
            with self._lock:
                del self._builds[key, version]
                if pending.value is not None:
                    self._store(key, version, pending.value)
            pending.done.set()
        return pending.value

    def forget(self, key: Hashable, version: str) -> None:
        """Drop the map of `key` if it is at `version` (its file was replaced by a newer one's)."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] == version:
                del self._entries[key]
                self._bytes -= found[1].nbytes

    def _store(self, key: Hashable, version: str, value: Sized) -> None:
        # Under the lock. A newer version replaces the older; then the least recently used go.
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old[1].nbytes
        if value.nbytes > self.max_bytes:
            return
        self._entries[key] = (version, value)
        self._bytes += value.nbytes
        while self._bytes > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self._bytes -= evicted.nbytes

    @property
    def nbytes(self) -> int:
        """The bytes of the maps kept now (never above `max_bytes`)."""
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
