"""Venues: made from a layout over the API or the command line, read back, refused with the place of each problem."""

from __future__ import annotations

import json

import pytest

from ..organizers import layout


def _post_venue(client, organization_id: int, who: dict, body: dict):
    # Compact JSON, as a browser's JSON.stringify sends it (the arena is 1 MB that way, under the limit).
    return client.post(
        f"/organizations/{organization_id}/venues",
        data=json.dumps(body, separators=(",", ":")),
        content_type="application/json",
        headers=who["headers"],
    )


def test_the_example_theatre_becomes_a_venue_and_reads_back(api, client, organizers):
    manager = api.user()
    organization_id = organizers.organization(manager)
    response = _post_venue(client, organization_id, manager, {"name": "Grand Théâtre", "layout": layout("theatre")})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    venue = body["venue"]
    assert body["message"] and venue["name"] == "Grand Théâtre" and venue["seat_count"] == 400
    assert venue["organization_id"] == organization_id
    assert [section["name"] for section in venue["layout"]["sections"]] == ["Stalls", "Balcony"]
    assert venue["layout"]["focal_point"] == {"x": 13.5, "y": 4.0}
    assert client.get(f"/venues/{venue['id']}", headers=manager["headers"]).get_json() == {"venue": venue}
    listed = client.get(f"/organizations/{organization_id}/venues", headers=manager["headers"]).get_json()
    assert listed == {"venues": [venue]}


def test_the_example_arena_of_20000_seats_fits_one_request(api, client, organizers):
    manager = api.user()
    organization_id = organizers.organization(manager)
    response = _post_venue(client, organization_id, manager, {"name": "Arena", "layout": layout("arena")})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["venue"]["seat_count"] == 20_000


def test_the_default_focal_point_is_the_middle_of_the_first_row(api, client, organizers):
    manager = api.user()
    organization_id = organizers.organization(manager)
    raw = {"sections": [{"name": "", "rows": [{"name": "A", "seats": [{"number": 2}, {"number": 9}]}]}]}
    venue = _post_venue(client, organization_id, manager, {"name": "Small", "layout": raw}).get_json()["venue"]
    assert venue["layout"]["focal_point"] == {"x": 5.5, "y": 0.0}


def test_a_layout_problem_is_named_by_its_path_and_nothing_is_written(api, client, organizers):
    manager = api.user()
    organization_id = organizers.organization(manager)
    theatre = layout("theatre")
    balcony_a = theatre["sections"][1]["rows"][0]["seats"]
    balcony_a.append(dict(balcony_a[0]))  # seat A1 of the balcony twice
    response = _post_venue(client, organization_id, manager, {"name": "Broken", "layout": theatre})
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "validation_error"
    assert body["details"] == {"sections[1].rows[0].seats": ["Seat numbers appear more than once: 1."]}
    listed = client.get(f"/organizations/{organization_id}/venues", headers=manager["headers"]).get_json()
    assert listed == {"venues": []}


def test_a_layout_of_100001_seats_is_refused(api, client, organizers):
    manager = api.user()
    organization_id = organizers.organization(manager)
    rows = [{"name": "A", "seats": 50_000}, {"name": "B", "seats": 50_001}]
    body = {"name": "Too big", "layout": {"sections": [{"name": "", "rows": rows}]}}
    response = _post_venue(client, organization_id, manager, body)
    assert response.status_code == 400 and response.get_json()["code"] == "validation_error"
    assert "sections" in response.get_json()["details"]
    rows[1]["seats"] = 50_000
    assert _post_venue(client, organization_id, manager, body).get_json()["venue"]["seat_count"] == 100_000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"layout": {"sections": [{"rows": [{"name": "A", "seats": 1}]}]}}, "name"),
        ({"name": "x" * 201, "layout": {"sections": [{"rows": [{"name": "A", "seats": 1}]}]}}, "name"),
        ({"name": "Hall"}, "layout"),
        ({"name": "Hall", "layout": [1, 2]}, "layout"),
        (
            {"name": "Hall", "layout": {"sections": [{"rows": [{"name": "A", "seats": -1}]}]}},
            "sections[0].rows[0].seats",
        ),
        ({"name": "Hall", "layout": {"sections": "all"}}, "sections"),
    ],
)
def test_venue_bodies_are_validated(api, client, organizers, body, field):
    manager = api.user()
    organization_id = organizers.organization(manager)
    response = _post_venue(client, organization_id, manager, body)
    assert response.status_code == 400 and response.get_json()["code"] == "validation_error"
    assert field in response.get_json()["details"], response.get_json()


def test_a_venue_of_another_organization_is_not_found(api, client, organizers):
    manager, stranger = api.user(), api.user()
    venue = organizers.venue(manager, organizers.organization(manager))
    mine = organizers.organization(stranger)
    for path in (f"/venues/{venue['id']}", "/venues/987654"):
        response = client.get(path, headers=stranger["headers"])
        assert response.status_code == 404 and response.get_json()["code"] == "venue_not_found"
    assert client.get(f"/organizations/{mine}/venues", headers=stranger["headers"]).get_json() == {"venues": []}


def test_import_venue_reads_a_layout_file_and_prints_the_venue_id_last(api, app, client, organizers, tmp_path):
    manager = api.user()
    organization_id = organizers.organization(manager)
    runner = app.test_cli_runner()
    path = tmp_path / "arena.json"
    path.write_text(json.dumps(layout("arena")))
    args = ["import-venue", "--organization", str(organization_id), "--name", "Arena", "--layout", str(path)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    venue_id = int(result.stdout.strip().splitlines()[-1])
    venue = client.get(f"/venues/{venue_id}", headers=manager["headers"]).get_json()["venue"]
    assert venue["seat_count"] == 20_000 and venue["organization_id"] == organization_id


def test_import_venue_names_the_problems_and_writes_nothing(api, app, client, organizers, tmp_path):
    manager = api.user()
    organization_id = organizers.organization(manager)
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"sections": [{"rows": [{"name": "A", "seats": [{"number": 1}, {"number": 1}]}]}]}))
    not_json = tmp_path / "not.json"
    not_json.write_text("{sections:")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(layout("theatre")))
    for layout_file, organization, expected in (
        (bad, organization_id, "sections[0].rows[0].seats"),
        (not_json, organization_id, "not JSON"),
        (good, 987654, "no organization 987654"),
    ):
        args = ["import-venue", "--organization", str(organization), "--name", "X", "--layout", str(layout_file)]
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and expected in result.output and "Traceback" not in result.output
    assert client.get(f"/organizations/{organization_id}/venues", headers=manager["headers"]).get_json()["venues"] == []
