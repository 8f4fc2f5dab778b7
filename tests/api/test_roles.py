"""Every organizer route against every role: owner, manager, door, a signed-in user of no organization, a
removed member, a member of another organization, and a platform admin.

Someone outside the organization meets it (its members, venues, drafts) as if it did not exist: 404.
Members whose role is too low get 403, and so does anyone outside for an event buyers can see anyway.
"""

from __future__ import annotations

import itertools

import pytest

from ..organizers import SMALL_LAYOUT, future

# Outsiders first: a manager's publish turns the draft into an event everyone sees (403, not 404, then).
ROLES = ("outsider", "removed", "other_organization", "door", "manager", "owner", "admin")
OUTSIDERS = ("outsider", "removed", "other_organization")
_names = itertools.count(1)


@pytest.fixture
def world(api, organizers):
    """Organization A (owner, manager, door, a removed manager, a door member `target`) with a venue, a draft
    and an event on sale; organization B of another user; a user of no organization; a platform admin."""
    people = {role: api.user() for role in ("owner", "manager", "door", "removed", "target", "outsider")}
    people["other_organization"] = api.user()
    people["admin"] = organizers.admin()
    owner = people["owner"]
    organization_id = organizers.organization(owner)
    for role in ("manager", "door"):
        organizers.add_member(owner, organization_id, people[role], role)
    organizers.add_member(owner, organization_id, people["removed"], "manager")
    organizers.add_member(owner, organization_id, people["target"], "door")
    organizers.organization(people["other_organization"], name="Elsewhere")
    venue = organizers.venue(owner, organization_id)
    draft = organizers.event(owner, organization_id, venue["id"])
    on_sale = organizers.event(owner, organization_id, venue["id"])
    organizers.publish(owner, on_sale["id"])
    removal = api.client.delete(
        f"/organizations/{organization_id}/members/{people['removed']['id']}", headers=owner["headers"]
    )
    assert removal.status_code == 200  # the removed manager keeps a valid token: roles are not in it
    return {
        "people": people,
        "organization_id": organization_id,
        "venue": venue,
        "draft": draft,
        "on_sale": on_sale,
        "draft_seat": organizers.seats(draft["id"], owner)[0]["id"],
        "on_sale_seat": organizers.seats(on_sale["id"], owner)[0]["id"],
        "seeded": api.seed(rows="A", per_row=2),  # seed-seats: no organization, admins only
    }


def _expect(*, owner, manager, door, outsiders, admin=None):
    expected = {"owner": owner, "manager": manager, "door": door, "admin": admin or owner}
    expected.update(dict.fromkeys(OUTSIDERS, outsiders))
    return expected


OK, CREATED = (200, None), (201, None)
FORBIDDEN = (403, "forbidden")


def _event_routes(kind: str, outsiders):
    """PATCH, publish, close, block, unblock of the world's draft or event on sale."""

    def seat(world):
        return world[f"{kind}_seat"]

    rules = _expect(owner=OK, manager=OK, door=FORBIDDEN, outsiders=outsiders)
    return {
        f"patch {kind}": (
            "patch",
            lambda w: f"/events/{w[kind]['id']}",
            lambda w: {"name": f"New {next(_names)}"},
            rules,
        ),
        f"publish {kind}": ("post", lambda w: f"/events/{w[kind]['id']}/publish", None, rules),
        f"close {kind}": ("post", lambda w: f"/events/{w[kind]['id']}/close", None, rules),
        f"block {kind}": (
            "post",
            lambda w: f"/events/{w[kind]['id']}/seats/block",
            lambda w: {"seat_ids": [seat(w)]},
            rules,
        ),
        f"unblock {kind}": (
            "post",
            lambda w: f"/events/{w[kind]['id']}/seats/unblock",
            lambda w: {"seat_ids": [seat(w)]},
            rules,
        ),
    }


NO_ORGANIZATION = (404, "organization_not_found")
ROUTES = {
    "create organization": (
        "post",
        lambda w: "/organizations",
        lambda w: {"name": "Mine"},
        _expect(owner=CREATED, manager=CREATED, door=CREATED, outsiders=CREATED),
    ),
    "list my organizations": (
        "get",
        lambda w: "/organizations",
        None,
        _expect(owner=OK, manager=OK, door=OK, outsiders=OK),
    ),
    "add member": (
        "post",
        lambda w: f"/organizations/{w['organization_id']}/members",
        lambda w: {"email": w["people"]["target"]["email"], "role": "door"},
        _expect(owner=CREATED, manager=FORBIDDEN, door=FORBIDDEN, outsiders=NO_ORGANIZATION),
    ),
    "list members": (
        "get",
        lambda w: f"/organizations/{w['organization_id']}/members",
        None,
        _expect(owner=OK, manager=FORBIDDEN, door=FORBIDDEN, outsiders=NO_ORGANIZATION),
    ),
    "remove member": (
        "delete",
        lambda w: f"/organizations/{w['organization_id']}/members/{w['people']['target']['id']}",
        None,
        _expect(owner=OK, manager=FORBIDDEN, door=FORBIDDEN, outsiders=NO_ORGANIZATION),
    ),
    "create venue": (
        "post",
        lambda w: f"/organizations/{w['organization_id']}/venues",
        lambda w: {"name": "Annex", "layout": SMALL_LAYOUT},
        _expect(owner=CREATED, manager=CREATED, door=FORBIDDEN, outsiders=NO_ORGANIZATION),
    ),
    "list venues": (
        "get",
        lambda w: f"/organizations/{w['organization_id']}/venues",
        None,
        _expect(owner=OK, manager=OK, door=FORBIDDEN, outsiders=NO_ORGANIZATION),
    ),
    "get venue": (
        "get",
        lambda w: f"/venues/{w['venue']['id']}",
        None,
        _expect(owner=OK, manager=OK, door=FORBIDDEN, outsiders=(404, "venue_not_found")),
    ),
    "create event": (
        "post",
        lambda w: f"/organizations/{w['organization_id']}/events",
        lambda w: {
            "name": "Encore",
            "venue_id": w["venue"]["id"],
            "starts_at": future(),
            "categories": [{"name": "Stalls", "price": "10.00"}],
        },
        _expect(owner=CREATED, manager=CREATED, door=FORBIDDEN, outsiders=NO_ORGANIZATION),
    ),
    **_event_routes("draft", (404, "event_not_found")),
    **_event_routes("on_sale", FORBIDDEN),
    "patch an event of no organization": (
        "patch",
        lambda w: f"/events/{w['seeded']['id']}",
        lambda w: {"name": "Renamed"},
        _expect(owner=FORBIDDEN, manager=FORBIDDEN, door=FORBIDDEN, outsiders=FORBIDDEN, admin=OK),
    ),
}


@pytest.mark.parametrize("route", list(ROUTES))
def test_every_role_gets_what_it_may(client, organizers, world, route):
    method, path, body, expected = ROUTES[route]
    owner = world["people"]["owner"]
    for role in ROLES:
        response = client.open(
            path(world),
            method=method.upper(),
            json=body(world) if body else None,
            headers=world["people"][role]["headers"],
        )
        answer = response.get_json()
        got = (response.status_code, answer.get("code") if response.status_code >= 400 else None)
        assert got == expected[role], f"{route} as {role}: {answer}"
        if route == "remove member" and response.status_code == 200:
            organizers.add_member(owner, world["organization_id"], world["people"]["target"], "door")


def test_each_caller_lists_only_their_own_organizations(client, world):
    organization_id = world["organization_id"]
    listed = {
        role: [
            (o["id"], o["role"])
            for o in client.get("/organizations", headers=who["headers"]).get_json()["organizations"]
        ]
        for role, who in world["people"].items()
    }
    assert listed["owner"] == [(organization_id, "owner")]
    assert listed["manager"] == [(organization_id, "manager")] and listed["door"] == [(organization_id, "door")]
    assert listed["removed"] == listed["outsider"] == listed["admin"] == []
    assert len(listed["other_organization"]) == 1 and listed["other_organization"][0][0] != organization_id


def test_a_demoted_manager_loses_the_managers_routes_at_the_next_request(client, organizers, world):
    owner, manager = world["people"]["owner"], world["people"]["manager"]
    path = f"/organizations/{world['organization_id']}/venues"
    assert client.get(path, headers=manager["headers"]).status_code == 200
    organizers.add_member(owner, world["organization_id"], manager, "door")
    response = client.get(path, headers=manager["headers"])
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
