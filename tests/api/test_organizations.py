"""Organizations and their members: create, list, add, change, remove; the last owner stays."""

from __future__ import annotations

import pytest


def _members(client, organization_id: int, who: dict) -> list[dict]:
    response = client.get(f"/organizations/{organization_id}/members", headers=who["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()["members"]


def _add(client, organization_id: int, who: dict, email: str, role: str):
    return client.post(
        f"/organizations/{organization_id}/members", json={"email": email, "role": role}, headers=who["headers"]
    )


def test_the_creator_owns_the_organization_and_sees_it_in_me(api, client):
    owner = api.user()
    response = client.post("/organizations", json={"name": "  Théâtre du Nord "}, headers=owner["headers"])
    assert response.status_code == 201
    body = response.get_json()
    organization = body["organization"]
    assert body["message"] and organization == {"id": organization["id"], "name": "Théâtre du Nord"}
    mine = [{**organization, "role": "owner"}]
    assert client.get("/organizations", headers=owner["headers"]).get_json() == {"organizations": mine}
    me = client.get("/auth/me", headers=owner["headers"]).get_json()
    assert me["organizations"] == mine
    assert set(me["user"]) == {"id", "email", "name", "is_admin"}  # the user object keeps its fields
    assert _members(client, organization["id"], owner) == [
        {"user_id": owner["id"], "email": owner["email"], "role": "owner"}
    ]


def test_members_are_added_changed_and_listed(api, client, organizers):
    owner, colleague = api.user(), api.user()
    organization_id = organizers.organization(owner)
    added = _add(client, organization_id, owner, colleague["email"].upper(), "door")
    assert added.status_code == 201
    assert added.get_json()["member"] == {"user_id": colleague["id"], "email": colleague["email"], "role": "door"}
    changed = _add(client, organization_id, owner, colleague["email"], "manager")
    assert changed.status_code == 201 and changed.get_json()["member"]["role"] == "manager"
    assert [member["role"] for member in _members(client, organization_id, owner)] == ["owner", "manager"]
    mine = client.get("/organizations", headers=colleague["headers"]).get_json()["organizations"]
    assert mine == [{"id": organization_id, "name": "Théâtre", "role": "manager"}]


def test_adding_an_unknown_email_is_user_not_found(api, client, organizers):
    owner = api.user()
    organization_id = organizers.organization(owner)
    response = _add(client, organization_id, owner, "nobody@example.com", "door")
    assert response.status_code == 404 and response.get_json()["code"] == "user_not_found"


def test_the_last_owner_cannot_step_down_or_leave(api, client, organizers):
    owner, other = api.user(), api.user()
    organization_id = organizers.organization(owner)
    for response in (
        _add(client, organization_id, owner, owner["email"], "manager"),
        client.delete(f"/organizations/{organization_id}/members/{owner['id']}", headers=owner["headers"]),
    ):
        assert response.status_code == 409 and response.get_json()["code"] == "last_owner"
    # With a second owner, the first may step down, and then the second is the last.
    assert _add(client, organization_id, owner, other["email"], "owner").status_code == 201
    assert _add(client, organization_id, owner, owner["email"], "manager").status_code == 201
    response = client.delete(f"/organizations/{organization_id}/members/{other['id']}", headers=other["headers"])
    assert response.status_code == 409 and response.get_json()["code"] == "last_owner"
    assert [m["role"] for m in _members(client, organization_id, other)] == ["manager", "owner"]


def test_a_member_may_leave_and_loses_access_at_the_next_request(api, client, organizers):
    owner, manager = api.user(), api.user()
    organization_id = organizers.organization(owner)
    organizers.add_member(owner, organization_id, manager, "manager")
    venue = organizers.venue(manager, organization_id)
    assert client.get(f"/venues/{venue['id']}", headers=manager["headers"]).status_code == 200
    left = client.delete(f"/organizations/{organization_id}/members/{manager['id']}", headers=manager["headers"])
    assert left.status_code == 200 and left.get_json()["message"]
    # The same token, the very next request: the role was read from the database, not the token.
    response = client.get(f"/venues/{venue['id']}", headers=manager["headers"])
    assert response.status_code == 404 and response.get_json()["code"] == "venue_not_found"
    assert client.get("/organizations", headers=manager["headers"]).get_json() == {"organizations": []}


def test_removing_someone_who_is_not_a_member_is_member_not_found(api, client, organizers):
    owner, stranger = api.user(), api.user()
    organization_id = organizers.organization(owner)
    response = client.delete(f"/organizations/{organization_id}/members/{stranger['id']}", headers=owner["headers"])
    assert response.status_code == 404 and response.get_json()["code"] == "member_not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 7}, "name"),
        ({"name": "a\u0000b"}, "name"),
    ],
)
def test_organization_names_are_validated(api, client, body, field):
    response = client.post("/organizations", json=body, headers=api.user()["headers"])
    assert response.status_code == 400 and response.get_json()["code"] == "validation_error"
    assert field in response.get_json()["details"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "door"}, "email"),
        ({"email": "not an email", "role": "door"}, "email"),
        ({"email": "a@example.com"}, "role"),
        ({"email": "a@example.com", "role": "admin"}, "role"),
        ({"email": "a@example.com", "role": "OWNER"}, "role"),
    ],
)
def test_member_bodies_are_validated(api, client, organizers, body, field):
    owner = api.user()
    organization_id = organizers.organization(owner)
    response = client.post(f"/organizations/{organization_id}/members", json=body, headers=owner["headers"])
    assert response.status_code == 400 and response.get_json()["code"] == "validation_error"
    assert field in response.get_json()["details"]


def test_organization_routes_need_a_token(client):
    for method, path in (
        ("post", "/organizations"),
        ("get", "/organizations"),
        ("get", "/organizations/1/members"),
        ("post", "/organizations/1/members"),
        ("delete", "/organizations/1/members/1"),
        ("post", "/organizations/1/venues"),
        ("get", "/organizations/1/venues"),
        ("post", "/organizations/1/events"),
        ("get", "/venues/1"),
        ("patch", "/events/1"),
        ("post", "/events/1/publish"),
        ("post", "/events/1/close"),
        ("post", "/events/1/seats/block"),
        ("post", "/events/1/seats/unblock"),
    ):
        response = getattr(client, method)(path, json={})
        assert response.status_code == 401 and response.get_json()["code"] == "unauthorized", (method, path)


def test_create_organization_command_prints_its_id_last(api, app, client):
    owner = api.user()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-organization", "--name", "Opéra", "--owner", owner["email"]])
    assert result.exit_code == 0, result.output
    organization_id = int(result.stdout.strip().splitlines()[-1])
    mine = client.get("/organizations", headers=owner["headers"]).get_json()["organizations"]
    assert mine == [{"id": organization_id, "name": "Opéra", "role": "owner"}]
    unknown = runner.invoke(args=["create-organization", "--name", "X", "--owner", "nobody@example.com"])
    assert unknown.exit_code != 0 and "nobody@example.com" in unknown.output and "Traceback" not in unknown.output
