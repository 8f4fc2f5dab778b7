"""The seat maps a host's worker processes share as files: built once per host, read back exactly,
one version per map, a bounded directory, and never a directory others could write to."""

from __future__ import annotations

import os
import threading
import time
from array import array

import pytest

from ticketing.controllers.map_files import CachedMap, MapFiles, StoredMap, private_directory
from ticketing.controllers.seat_map_json import MapBody

URL = "postgresql+psycopg://db/ticketing"


def _map(tag: str, seats: int = 3) -> CachedMap:
    body = ('{"event_id":1,"seats":[' + ",".join(f'{{"id":{n},"t":"{tag}"}}' for n in range(seats)) + "]}").encode()
    ids = array("q", range(seats))
    ends = array("q", (index for index, byte in enumerate(body) if byte == ord("}")))
    return CachedMap(MapBody(body, ids, ends[:seats]), f"gzip of {tag}".encode())


def _contents(found: StoredMap | CachedMap) -> tuple:
    """What a map answers with: its JSON, its gzip and its seat index."""
    if isinstance(found, CachedMap):
        return found.encoded.body, found.gzipped, list(found.ids), list(found.ends)
    with found.open(gzipped=False) as body, found.open(gzipped=True) as zipped:
        return body.read(), zipped.read(), list(found.ids), list(found.ends)


def _same(found: StoredMap | CachedMap, expected: StoredMap | CachedMap) -> bool:
    return _contents(found) == _contents(expected)


def test_a_map_built_by_one_process_is_read_back_by_another_without_building(tmp_path):
    first, second = MapFiles(tmp_path, URL, 1 << 20), MapFiles(tmp_path, URL, 1 << 20)
    built = first.load_or_build("1.all", "7.0", lambda: _map("v7"))
    assert isinstance(built, StoredMap) and _same(built, _map("v7"))

    def never() -> CachedMap:
        raise AssertionError("built again")

    assert _same(second.load_or_build("1.all", "7.0", never), built)


def test_another_database_never_gets_the_map(tmp_path):
    MapFiles(tmp_path, URL, 1 << 20).load_or_build("1.all", "7.0", lambda: _map("ours"))
    theirs = MapFiles(tmp_path, URL + "-staging", 1 << 20).load_or_build("1.all", "7.0", lambda: _map("theirs"))
    assert b"theirs" in _contents(theirs)[0]


def test_processes_asking_at_once_build_the_version_once(tmp_path):
    builds: list[str] = []
    answers: list[CachedMap] = []
    start = threading.Barrier(6)

    def build() -> CachedMap:
        builds.append("built")
        time.sleep(0.2)
        return _map("v1")

    def worker() -> None:
        files = MapFiles(tmp_path, URL, 1 << 20)  # each its own, as each worker process has
        start.wait()
        answers.append(files.load_or_build("1.all", "1.0", build))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds == ["built"]
    assert len(answers) == 6 and all(_same(answer, answers[0]) for answer in answers)


def test_a_new_version_replaces_the_file_of_the_old_and_the_directory_stays_bounded(tmp_path):
    files = MapFiles(tmp_path, URL, 1000)
    files.load_or_build("1.all", "1.0", lambda: _map("a"))
    files.load_or_build("1.all", "2.0", lambda: _map("b"))
    assert len(list(tmp_path.glob("*.map"))) == 1
    for event in range(2, 12):
        files.load_or_build(f"{event}.all", "1.0", lambda: _map("c"))
        assert sum(path.stat().st_size for path in tmp_path.glob("*.map")) <= 1000
    big = files.load_or_build("99.all", "1.0", lambda: _map("big", seats=200))  # alone above the bound
    assert isinstance(big, CachedMap) and big.ids[-1] == 199  # answered from memory, not written
    assert not list(tmp_path.glob("*.99.all.*.map"))


def test_an_answer_keeps_reading_its_file_after_a_newer_version_replaced_it(tmp_path):
    files = MapFiles(tmp_path, URL, 1 << 20)
    old = files.load_or_build("1.all", "1.0", lambda: _map("old"))
    with old.open(gzipped=False) as sending:
        files.load_or_build("1.all", "2.0", lambda: _map("new"))
        assert sending.read() == _map("old").encoded.body
    with pytest.raises(FileNotFoundError):
        old.open(gzipped=False)


def test_a_damaged_file_is_built_again(tmp_path):
    files = MapFiles(tmp_path, URL, 1 << 20)
    files.load_or_build("1.all", "1.0", lambda: _map("a"))
    (path,) = tmp_path.glob("*.map")
    path.write_bytes(path.read_bytes()[:40])
    assert b'"t":"again"' in _contents(files.load_or_build("1.all", "1.0", lambda: _map("again")))[0]


def test_a_directory_others_may_write_to_is_not_used(tmp_path):
    assert private_directory(tmp_path / "maps") == tmp_path / "maps"
    assert (os.stat(tmp_path / "maps").st_mode & 0o777) == 0o700
    open_to_all = tmp_path / "open"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)
    assert private_directory(open_to_all) is None
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert private_directory(a_file) is None
