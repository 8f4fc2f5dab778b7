"""The per-worker seat-map cache under the threads of a gthread worker: never an error, never a wrong map."""

from __future__ import annotations

import random
import sys
import threading

import pytest

from ticketing.controllers.seat_map import MapCache

THREADS, LOOKUPS, TAGS, SIZE = 16, 3000, 40, 4


def _bodies(tag: str) -> tuple[bytes, bytes]:
    return (f'{{"map":"{tag}"}}'.encode(), tag.encode()[::-1])


@pytest.fixture
def eager_thread_switches():
    """Switch threads every microsecond, so that a race in the cache shows up in a short run."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_many_threads_looking_up_and_storing_many_tags_get_each_tags_own_map(eager_thread_switches):
    cache = MapCache(size=SIZE)
    failures: list[str] = []
    hits = []
    start = threading.Barrier(THREADS)

    def visitor(seed: int) -> None:
        rnd, mine = random.Random(seed), 0
        start.wait()
        try:
            for _ in range(LOOKUPS):
                tag = f"{rnd.randrange(TAGS)}.7.all.0"
                found = cache.get(tag)
                if found is None:
                    cache.put(tag, _bodies(tag))
                elif found != _bodies(tag):
                    failures.append(f"{tag} answered with {found[0]!r}")
                else:
                    mine += 1
        except Exception as error:  # any error at all is what this test looks for
            failures.append(repr(error))
        hits.append(mine)

    threads = [threading.Thread(target=visitor, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(hits) == THREADS and sum(hits) > 0  # the cache did serve maps meanwhile
    assert len(cache) <= SIZE


def test_a_map_looked_up_recently_outlives_older_ones():
    cache = MapCache(size=2)
    cache.put("a", _bodies("a"))
    cache.put("b", _bodies("b"))
    assert cache.get("a") == _bodies("a")  # "a" is now the most recently used
    cache.put("c", _bodies("c"))
    assert cache.get("b") is None
    assert cache.get("a") == _bodies("a") and cache.get("c") == _bodies("c")
