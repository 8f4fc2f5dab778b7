"""The per-worker seat-map cache under the threads of a gthread worker: never an error, never a wrong
map, never more bytes than its bound, and one build per version however many threads ask at once."""

from __future__ import annotations

import random
import sys
import threading
import time
from dataclasses import dataclass

import pytest

from ticketing.controllers.map_cache import MapCache

THREADS, LOOKUPS, KEYS, VERSIONS = 16, 3000, 40, 3


@dataclass(frozen=True)
class Map:
    key: int
    version: str
    nbytes: int


def _map(key: int, version: str, nbytes: int = 100) -> Map:
    return Map(key, version, nbytes)


@pytest.fixture
def eager_thread_switches():
    """Switch threads every microsecond, so that a race in the cache shows up in a short run."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _run(threads: int, target) -> None:
    started = [threading.Thread(target=target, args=(seed,)) for seed in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()


def test_many_threads_asking_for_many_maps_each_get_the_map_they_asked_for(eager_thread_switches):
    cache = MapCache(max_bytes=1000)  # room for 10 of the 40 maps
    failures: list[str] = []
    sizes: list[int] = []
    start = threading.Barrier(THREADS)

    def visitor(seed: int) -> None:
        rnd = random.Random(seed)
        start.wait()
        try:
            for _ in range(LOOKUPS):
                key, version = rnd.randrange(KEYS), str(rnd.randrange(VERSIONS))
                found = cache.get_or_build(key, version, lambda k=key, v=version: _map(k, v))
                if (found.key, found.version) != (key, version):
                    failures.append(f"{key}@{version} answered with {found}")
                sizes.append(cache.nbytes)
        except Exception as error:  # any error at all is what this test looks for
            failures.append(repr(error))

    _run(THREADS, visitor)
    assert failures == []
    assert max(sizes) <= 1000 and len(cache) <= 10


def test_the_bytes_kept_never_pass_the_bound_and_the_least_recently_used_go_first():
    cache = MapCache(max_bytes=250)
    for key in (1, 2):
        cache.get_or_build(key, "v", lambda k=key: _map(k, "v"))
    assert cache.get(1, "v") is not None  # 1 is now the most recently used
    cache.get_or_build(3, "v", lambda: _map(3, "v"))
    assert cache.nbytes == 200 and len(cache) == 2
    assert cache.get(2, "v") is None
    assert cache.get(1, "v") is not None and cache.get(3, "v") is not None


def test_a_new_version_replaces_the_old_one_of_the_same_map():
    cache = MapCache(max_bytes=1000)
    cache.get_or_build(1, "old", lambda: _map(1, "old"))
    cache.get_or_build(1, "new", lambda: _map(1, "new"))
    assert len(cache) == 1 and cache.nbytes == 100
    assert cache.get(1, "old") is None and cache.get(1, "new").version == "new"


def test_a_map_bigger_than_the_bound_is_answered_but_not_kept():
    cache = MapCache(max_bytes=250)
    cache.get_or_build(1, "v", lambda: _map(1, "v"))
    big = cache.get_or_build(2, "v", lambda: _map(2, "v", nbytes=300))
    assert big.key == 2 and big.nbytes == 300
    assert cache.get(2, "v") is None and cache.nbytes == 100  # the small one stays
    assert MapCache(max_bytes=0).get_or_build(1, "v", lambda: _map(1, "v")).key == 1  # 0: nothing kept


def test_threads_asking_for_a_version_being_built_wait_for_that_one_build():
    cache = MapCache(max_bytes=1000)
    builds: list[int] = []
    answers: list[Map] = []
    start = threading.Barrier(8)

    def build() -> Map:
        builds.append(1)
        time.sleep(0.2)  # long enough for every other thread to arrive meanwhile
        return _map(1, "v")

    def visitor(_seed: int) -> None:
        start.wait()
        answers.append(cache.get_or_build(1, "v", build))

    _run(8, visitor)
    assert len(builds) == 1
    assert len(answers) == 8 and all(answer is answers[0] for answer in answers)


def test_a_failed_build_fails_its_own_request_and_the_next_one_builds_again():
    cache = MapCache(max_bytes=1000)

    def broken() -> Map:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        cache.get_or_build(1, "v", broken)
    assert cache.get_or_build(1, "v", lambda: _map(1, "v")).version == "v"
