"""Best available's hold (ledger.hold_free) and stored geometry, on both databases: the first wholly
free block of the candidates is held, all of it or none; a block partly taken stops the attempt and
says which seats were not free; the limits count the whole block; seats another transaction is
taking are skipped without waiting (PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text, update

from ticketing.database import write_transaction
from ticketing.extensions import db
from ticketing.models import AVAILABLE, LOCKED, SEAT_STATUSES, EventGeometry, Seat, effective_status, utcnow
from ticketing.services import best_available, ledger
from ticketing.services.ledger import HoldLimits

LIMITS = HoldLimits(per_user=10, per_address=100, address="192.0.2.7")


def hold(app, user_id: int, blocks, *, limits: HoldLimits = LIMITS, wait: bool = False) -> ledger.BlockHold:
    now = utcnow()
    with app.app_context(), write_transaction() as session:
        return ledger.hold_free(
            session,
            blocks,
            event_id=_event_of(session, blocks[0][0]),
            user_id=user_id,
            until=now + timedelta(seconds=60),
            now=now,
            limits=limits,
            wait=wait,
        )


def _event_of(session, seat_id: int) -> int:
    return session.execute(select(Seat.event_id).where(Seat.id == seat_id)).scalar_one()


def holders(app, seat_ids) -> dict[int, int | None]:
    with app.app_context():
        rows = db.session.execute(select(Seat.id, Seat.status, Seat.holder_id).where(Seat.id.in_(seat_ids))).all()
    return {seat_id: holder if status == LOCKED else None for seat_id, status, holder in rows}


@pytest.fixture
def row(api) -> tuple[list[int], dict, dict]:
    """Ten seats A1-A10 of a seeded event, and two buyers."""
    event = api.seed(rows="A", per_row=10)
    return event["seat_ids"], api.user(), api.user()


def test_the_first_block_is_held_whole_and_stamped(app, api, row):
    seats, buyer, _other = row
    outcome = hold(app, buyer["id"], [seats[3:6], seats[0:3]])
    assert [seat.id for seat in outcome.held] == seats[3:6]
    assert all(seat.status == LOCKED and seat.holder_id == buyer["id"] for seat in outcome.held)
    assert {seat.label for seat in outcome.held} == {"A4", "A5", "A6"}
    assert holders(app, seats) == {seat: buyer["id"] if seat in seats[3:6] else None for seat in seats}
    with app.app_context():
        stamps = db.session.execute(select(Seat.changed_in).where(Seat.id.in_(seats[3:6]))).scalars().all()
    assert all(stamp > 0 for stamp in stamps)


def test_a_block_wholly_taken_gives_the_next_candidate(app, api, row):
    seats, buyer, other = row
    hold(app, other["id"], [seats[3:6]])
    outcome = hold(app, buyer["id"], [seats[3:6], seats[6:9]])
    assert [seat.id for seat in outcome.held] == seats[6:9]
    assert holders(app, seats[3:6]) == dict.fromkeys(seats[3:6], other["id"])


def test_a_block_partly_taken_stops_and_says_which_seats(app, api, row):
    seats, buyer, other = row
    hold(app, other["id"], [seats[4:5]])
    outcome = hold(app, buyer["id"], [seats[3:6], seats[6:9]])
    assert outcome.held == [] and not outcome.limit_reached
    assert outcome.taken == {seats[4]} and outcome.skipped == set()
    # Nothing of either block was held, and the free seats of the first were given back.
    assert holders(app, seats) == {seat: other["id"] if seat == seats[4] else None for seat in seats}


def test_the_limits_count_the_whole_block(app, api, row):
    seats, buyer, other = row
    hold(app, buyer["id"], [seats[0:2]])
    outcome = hold(app, buyer["id"], [seats[4:7]], limits=HoldLimits(per_user=4, per_address=100, address=None))
    assert outcome.held == [] and outcome.limit_reached
    assert holders(app, seats[4:7]) == dict.fromkeys(seats[4:7])
    # Behind one address: the other buyer's seats count too.
    by_address = HoldLimits(per_user=10, per_address=4, address="192.0.2.7")
    outcome = hold(app, other["id"], [seats[4:7]], limits=by_address)
    assert outcome.limit_reached and holders(app, seats[4:7]) == dict.fromkeys(seats[4:7])
    assert [seat.id for seat in hold(app, other["id"], [seats[4:6]], limits=by_address).held] == seats[4:6]


def test_a_hold_that_ran_out_is_free_again(app, api, row):
    seats, buyer, other = row
    api.lock_taken_ago(other["id"], seats[0], seconds_ago=120)
    assert [seat.id for seat in hold(app, buyer["id"], [seats[0:2]]).held] == seats[0:2]


def test_seats_another_transaction_is_taking_are_skipped_without_waiting(app, api, row, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: no other transaction can hold a seat's row meanwhile")
    seats, buyer, _other = row
    competitor = create_engine(database_url)
    try:
        with competitor.begin() as connection:
            connection.execute(text("SELECT id FROM seats WHERE id = ANY(:ids) FOR UPDATE"), {"ids": seats[3:6]})
            outcome = hold(app, buyer["id"], [seats[3:6], seats[6:9]])
            assert [seat.id for seat in outcome.held] == seats[6:9]
            partly = hold(app, buyer["id"], [[seats[5], seats[9]]])
            assert partly.held == [] and partly.skipped == {seats[5]} and partly.taken == set()
    finally:
        competitor.dispose()
    assert holders(app, seats[3:6]) == dict.fromkeys(seats[3:6])


def test_every_new_event_has_its_geometry_stored(app, api, organizers):
    from tests.organizers import THEATRE_PRICES, layout

    seeded = api.seed(rows="A-C", per_row=4)
    manager = api.user()
    organization_id = organizers.organization(manager)
    venue = organizers.venue(manager, organization_id, layout("theatre"), name="Theatre")
    made = organizers.event(manager, organization_id, venue["id"], categories=THEATRE_PRICES)
    with app.app_context():
        stored = dict(db.session.execute(select(EventGeometry.event_id, EventGeometry.geometry)).all())
        for event_id, venue_id in ((seeded["id"], None), (made["id"], venue["id"])):
            geometry = best_available.Geometry.from_json(stored[event_id])
            with write_transaction() as session:
                measured = best_available._measure_geometry(session, event_id=event_id, venue_id=venue_id)
            assert geometry == measured
    assert best_available.Geometry.from_json(stored[seeded["id"]]).rows[0][1:] == ("", "A", 4)


def test_an_event_without_a_stored_geometry_gets_one_on_its_first_ask(app, api):
    event = api.seed(rows="A-B", per_row=6)
    with app.app_context(), write_transaction() as session:
        session.execute(EventGeometry.__table__.delete())
    buyer = api.user()
    response = api.client.post(f"/events/{event['id']}/best-available", json={"count": 2}, headers=buyer["headers"])
    assert [seat["label"] for seat in response.get_json()["seats"]] == ["A3", "A4"]
    with app.app_context():
        assert db.session.execute(select(EventGeometry.event_id)).scalars().all() == [event["id"]]


def test_the_answer_is_what_the_schema_would_dump(api):
    from ticketing.schemas.booking import BestAvailableResult

    event = api.seed(rows="A", per_row=6)
    buyer = api.user()
    body = api.client.post(f"/events/{event['id']}/best-available", json={"count": 2}, headers=buyer["headers"])
    body = body.get_json()
    assert BestAvailableResult().dump(body) == body
    assert not BestAvailableResult().validate(body)


def test_a_seat_is_held_exactly_when_the_models_rule_says_it_is_free(app, api):
    """The PostgreSQL function restates models/seat.py's rule in SQL: both must agree on every state."""
    now = utcnow().replace(microsecond=0)
    cases = [
        (status, locked_until)
        for status in SEAT_STATUSES
        for locked_until in (None, now - timedelta(seconds=1), now, now + timedelta(seconds=1))
    ]
    event = api.seed(rows="A", per_row=len(cases))
    owner, buyer = api.user(), api.user()
    with app.app_context(), write_transaction() as session:
        for seat_id, (status, locked_until) in zip(event["seat_ids"], cases, strict=True):
            holder = owner["id"] if status == LOCKED else None
            values = {"status": status, "locked_until": locked_until, "holder_id": holder}
            session.execute(update(Seat).where(Seat.id == seat_id).values(**values))
    limits = HoldLimits(per_user=100, per_address=100, address=None)
    for seat_id, (status, locked_until) in zip(event["seat_ids"], cases, strict=True):
        with app.app_context(), write_transaction() as session:
            outcome = ledger.hold_free(
                session,
                [[seat_id]],
                event_id=event["id"],
                user_id=buyer["id"],
                until=now + timedelta(minutes=1),
                now=now,
                limits=limits,
            )
        free = effective_status(status, locked_until, now) == AVAILABLE
        assert bool(outcome.held) == free, (status, locked_until)
        assert outcome.taken == (set() if free else {seat_id})
