"""The seat map written straight from rows is, byte for byte, the map the seat presenter describes,
for every kind of seat and every viewer; one cached map serves everyone, and nobody sees another's
holds."""

from __future__ import annotations

import gzip

import orjson
import pytest
from sqlalchemy import select, update

from ticketing.clock import ManualClock
from ticketing.controllers.presenters import seat_json
from ticketing.controllers.seat_map import map_cache, map_files
from ticketing.extensions import db
from ticketing.models import Seat


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture(params=["shared files", "worker memory"])
def settings(request, clock, tmp_path):
    """Both ways a map is kept: the host's shared files, and each worker's memory (the fallback
    when the directory cannot be used safely: here, one open to others)."""
    if request.param == "shared files":
        return {"CLOCK": clock, "HOLD_TTL_SECONDS": 60, "SEAT_MAP_DIR": str(tmp_path / "maps")}
    open_to_all = tmp_path / "open"
    open_to_all.mkdir(mode=0o777)
    open_to_all.chmod(0o777)
    return {"CLOCK": clock, "HOLD_TTL_SECONDS": 60, "SEAT_MAP_DIR": str(open_to_all)}


def _expected(api, clock, event_id: int, viewer_id: int | None = None, status: str | None = None) -> bytes:
    """The map as presenters.seat_json describes it (the reference the fast writer must match)."""
    with api.app.app_context():
        seats = db.session.scalars(select(Seat).where(Seat.event_id == event_id).order_by(Seat.id)).all()
        now = clock.now()
        shown = [seat_json(seat, now=now, viewer_id=viewer_id) for seat in seats]
    if status is not None:
        shown = [seat for seat in shown if seat["status"] == status]
    return orjson.dumps({"event_id": event_id, "seats": shown})


def _every_kind_of_seat(api, clock) -> tuple[dict, dict, dict]:
    """An event with layout fields of every shape and seats in every state; returns it, the holder
    of two of them and a second user holding one."""
    event = api.seed(rows="A-B", per_row=6, price_cents=1999)
    ids = event["seat_ids"]
    with api.app.app_context():
        shapes = [
            {
                "label": 'Ä "1" \\ é',
                "section": "Stalls",
                "category": "Premium",
                "accessible": True,
                "x": 12.5,
                "y": 3.0,
            },
            {"label": "A2 \u2028 line", "section": "Balcony", "category": None, "x": -0.1, "y": 1e-7},
            {"section": "Stalls", "category": "Premium", "x": 999999.999, "y": -1000000.0},
            {"price_cents": 5, "x": 7.0, "y": None},
            {"price_cents": 0, "row": "Z\u00e9"},
        ]
        for seat_id, values in zip(ids, shapes, strict=False):
            db.session.execute(update(Seat).where(Seat.id == seat_id).values(**values))
        db.session.execute(update(Seat).where(Seat.id == ids[5]).values(status="blocked"))
        db.session.commit()
    holder, other = api.user(), api.user()
    for seat_id in (ids[0], ids[6]):
        assert api.client.post(f"/seats/{seat_id}/lock", headers=holder["headers"]).status_code == 200
    assert api.client.post(f"/seats/{ids[7]}/lock", headers=other["headers"]).status_code == 200
    order = api.client.post("/orders", json={"seat_ids": [ids[8]]}, headers=other["headers"])
    assert order.status_code == 201  # a seat in checkout: locked and taken
    paid = api.client.post("/orders", json={"seat_ids": [ids[9]]}, headers=holder["headers"]).get_json()["order"]
    payment = {"payment_token": "tok_visa"}
    assert api.client.post(f"/orders/{paid['id']}/pay", json=payment, headers=holder["headers"]).status_code == 200
    api.lock_taken_ago(other["id"], ids[10], seconds_ago=120)  # run out, still stored as locked
    return event, holder, other


def test_the_map_is_byte_for_byte_the_presenters_for_every_seat_and_viewer(api, client, clock):
    event, holder, other = _every_kind_of_seat(api, clock)
    path = f"/events/{event['id']}/seats"
    assert client.get(path).data == _expected(api, clock, event["id"])
    assert client.get(path, headers=holder["headers"]).data == _expected(api, clock, event["id"], holder["id"])
    assert client.get(path, headers=other["headers"]).data == _expected(api, clock, event["id"], other["id"])
    for status in ("available", "locked", "booked", "blocked"):
        for viewer in (None, holder, other):
            headers = viewer["headers"] if viewer else {}
            answer = client.get(f"{path}?status={status}", headers=headers)
            assert answer.data == _expected(api, clock, event["id"], viewer and viewer["id"], status), status
    clock.advance(61)  # every hold runs out: nobody's seat is locked_by_me any more
    assert client.get(path, headers=holder["headers"]).data == _expected(api, clock, event["id"], holder["id"])


def test_one_cached_map_serves_every_viewer_and_nobody_sees_anothers_holds(api, client, clock):
    event, holder, other = _every_kind_of_seat(api, clock)
    path = f"/events/{event['id']}/seats"
    stranger = api.user()
    answers = {}
    for name, viewer in (("anonymous", None), ("holder", holder), ("other", other), ("stranger", stranger)):
        for _ in range(2):  # the second from the cache
            answers[name] = client.get(path, headers=viewer["headers"] if viewer else {}).get_json()["seats"]
    assert len(map_cache(api.app)) == 1  # the four views came from one map
    kept_in_files = map_files(api.app) is not None
    assert kept_in_files == (api.app.config["SEAT_MAP_DIR"].endswith("maps"))

    def mine(seats: list[dict]) -> set[int]:
        return {seat["id"] for seat in seats if seat.get("locked_by_me")}

    ids = event["seat_ids"]
    assert mine(answers["holder"]) == {ids[0], ids[6]}
    assert mine(answers["other"]) == {ids[7], ids[8]}
    assert mine(answers["anonymous"]) == mine(answers["stranger"]) == set()
    assert answers["stranger"] == answers["anonymous"]
    without_mine = [
        {k: v for k, v in seat.items() if k not in ("locked_by_me", "lock_expires_at")} for seat in answers["holder"]
    ]
    assert without_mine == answers["anonymous"]


def test_a_viewers_map_gzipped_is_their_own_map(api, client, clock):
    event, holder, _ = _every_kind_of_seat(api, clock)
    path = f"/events/{event['id']}/seats"
    zipped = client.get(path, headers={**holder["headers"], "Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == _expected(api, clock, event["id"], holder["id"])
    plain = client.get(path, headers=holder["headers"])
    assert int(plain.headers["Content-Length"]) == len(plain.data)


def test_the_holders_current_copy_is_a_304_until_their_hold_changes(api, client, clock):
    event, holder, _ = _every_kind_of_seat(api, clock)
    path = f"/events/{event['id']}/seats"
    first = client.get(path, headers=holder["headers"])
    tag = first.headers["ETag"]
    again = client.get(path, headers={**holder["headers"], "If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    other_viewer = api.user()
    assert client.get(path, headers={**other_viewer["headers"], "If-None-Match": tag}).status_code == 200
    assert client.delete(f"/seats/{event['seat_ids'][0]}/lock", headers=holder["headers"]).status_code == 200
    released = client.get(path, headers={**holder["headers"], "If-None-Match": tag})
    assert released.status_code == 200 and released.headers["ETag"] != tag
    assert event["seat_ids"][0] not in {s["id"] for s in released.get_json()["seats"] if s.get("locked_by_me")}


def test_with_no_cache_every_map_is_built_and_still_right(api, client, clock):
    api.app.config["SEAT_MAP_CACHE_MB"] = 0  # before the first map: the cache is made then
    event, holder, _ = _every_kind_of_seat(api, clock)
    path = f"/events/{event['id']}/seats"
    for _ in range(2):
        assert client.get(path, headers=holder["headers"]).data == _expected(api, clock, event["id"], holder["id"])
    assert len(map_cache(api.app)) == 0 and map_files(api.app) is None
