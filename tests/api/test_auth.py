"""Accounts and tokens: every token problem is a JSON 401 `unauthorized`."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token

from ticketing import ConfigurationError, create_app
from ticketing.extensions import db
from ticketing.models import User

from ..conftest import PASSWORD


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_register_returns_the_user_without_the_password(client):
    response = client.post("/auth/register", json={"email": "Ann@Example.com ", "password": PASSWORD, "name": "Ann"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["user"]["email"] == "ann@example.com"
    assert body["user"]["name"] == "Ann"
    assert isinstance(body["user"]["id"], int)
    assert body["message"]
    assert PASSWORD not in response.get_data(as_text=True)


def test_password_is_stored_with_scrypt(api, app):
    user = api.register()
    with app.app_context():
        stored = db.session.get(User, user["id"]).password_hash
    assert stored.startswith("scrypt:")
    assert PASSWORD not in stored


def test_register_twice_is_email_taken_whatever_the_case(client, api):
    api.register("bob@example.com")
    response = client.post("/auth/register", json={"email": "BOB@example.com", "password": PASSWORD})
    assert response.status_code == 409
    assert response.get_json()["code"] == "email_taken"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"email": "a@example.com"}, "password"),
        ({"password": PASSWORD}, "email"),
        ({"email": 5, "password": PASSWORD}, "email"),
    ],
)
def test_register_rejects_bad_input_with_details(client, body, field):
    response = client.post("/auth/register", json=body)
    assert response.status_code == 400
    payload = response.get_json()
    assert payload["code"] == "validation_error"
    assert field in payload["details"]


def test_login_returns_bearer_tokens(api, client):
    user = api.register()
    response = client.post("/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert body["access_token"] and body["refresh_token"]


@pytest.mark.parametrize("email_known", [True, False])
def test_login_with_wrong_credentials_is_401_invalid_credentials(api, client, email_known):
    user = api.register()
    email = user["email"] if email_known else "nobody@example.com"
    response = client.post("/auth/login", json={"email": email, "password": "wrong password"})
    assert response.status_code == 401
    assert response.get_json() == {"code": "invalid_credentials", "message": "The email or password is wrong."}


def test_me_shows_the_tokens_user(api, client):
    user = api.user()
    response = client.get("/auth/me", headers=user["headers"])
    assert response.status_code == 200
    assert response.get_json()["user"] == {
        "id": user["id"],
        "email": user["email"],
        "name": None,
        "is_admin": False,
    }


def test_refresh_token_gives_a_working_access_token(api, client):
    user = api.user()
    refresh = user["tokens"]["refresh_token"]
    response = client.post("/auth/refresh", headers={"Authorization": f"Bearer {refresh}"})
    assert response.status_code == 200
    access = response.get_json()["access_token"]
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {access}"}).status_code == 200


def _assert_unauthorized(response):
    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == "unauthorized"
    assert body["message"]


def test_access_token_cannot_refresh(api, client):
    user = api.user()
    _assert_unauthorized(client.post("/auth/refresh", headers=user["headers"]))


def test_refresh_token_is_not_an_access_token(api, client):
    user = api.user()
    headers = {"Authorization": f"Bearer {user['tokens']['refresh_token']}"}
    _assert_unauthorized(client.get("/auth/me", headers=headers))
    event = api.seed()
    _assert_unauthorized(client.post(f"/seats/{event['seat_ids'][0]}/lock", headers=headers))


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer garbage", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "Token x.y.z"],
)
def test_missing_or_malformed_token_is_401(api, client, authorization):
    event = api.seed()
    headers = {} if authorization is None else {"Authorization": authorization}
    _assert_unauthorized(client.get("/auth/me", headers=headers))
    _assert_unauthorized(client.post(f"/seats/{event['seat_ids'][0]}/lock", headers=headers))


def test_tampered_token_is_401(api, client):
    user = api.user()
    header, payload, signature = user["tokens"]["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(user["id"] + 1)
    forged = f"{header}.{_b64(claims)}.{signature}"
    _assert_unauthorized(client.get("/auth/me", headers={"Authorization": f"Bearer {forged}"}))


def test_alg_none_token_is_401(api, client):
    user = api.user()
    payload = user["tokens"]["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    _assert_unauthorized(client.get("/auth/me", headers={"Authorization": f"Bearer {unsigned}"}))


def test_token_signed_with_another_key_is_401(api, client):
    user = api.user()
    claims = pyjwt.decode(user["tokens"]["access_token"], options={"verify_signature": False})
    other = pyjwt.encode(claims, "some-other-secret-key-of-sufficient-length!", algorithm="HS256")
    _assert_unauthorized(client.get("/auth/me", headers={"Authorization": f"Bearer {other}"}))


def test_expired_token_is_401(api, app, client):
    user = api.user()
    with app.app_context():
        token = create_access_token(identity=db.session.get(User, user["id"]), expires_delta=timedelta(seconds=-1))
    _assert_unauthorized(client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}))


def test_logged_out_token_is_revoked(api, client):
    user = api.user()
    assert client.post("/auth/logout", headers=user["headers"]).status_code == 200
    _assert_unauthorized(client.get("/auth/me", headers=user["headers"]))


def test_token_of_a_deleted_user_is_401(api, app, client):
    user = api.user()
    with app.app_context():
        db.session.delete(db.session.get(User, user["id"]))
        db.session.commit()
    _assert_unauthorized(client.get("/auth/me", headers=user["headers"]))
    event = api.seed()
    _assert_unauthorized(client.post(f"/seats/{event['seat_ids'][0]}/lock", headers=user["headers"]))


def test_production_refuses_to_start_without_a_secret(monkeypatch):
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="JWT_SECRET_KEY"):
        create_app({"APP_ENV": "production", "JWT_SECRET_KEY": None})
