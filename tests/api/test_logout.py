"""One logout ends the whole login: its access tokens and its refresh token."""

from __future__ import annotations

from datetime import timedelta

from flask_jwt_extended import create_access_token, create_refresh_token

from ticketing.extensions import db
from ticketing.models import User


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _assert_unauthorized(response) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)[:300]
    assert response.get_json()["code"] == "unauthorized"


def test_logout_with_the_access_token_also_ends_the_refresh_token(api, client):
    user = api.user()
    refresh = user["tokens"]["refresh_token"]
    assert client.post("/auth/logout", headers=user["headers"]).status_code == 200
    _assert_unauthorized(client.get("/auth/me", headers=user["headers"]))
    _assert_unauthorized(client.post("/auth/refresh", headers=_bearer(refresh)))


def test_logout_ends_access_tokens_refreshed_from_the_same_login(api, client):
    user = api.user()
    refresh = user["tokens"]["refresh_token"]
    renewed = client.post("/auth/refresh", headers=_bearer(refresh)).get_json()["access_token"]
    assert client.get("/auth/me", headers=_bearer(renewed)).status_code == 200
    # logging out with the renewed token ends the original ones too, and the other way round
    assert client.post("/auth/logout", headers=_bearer(renewed)).status_code == 200
    _assert_unauthorized(client.get("/auth/me", headers=user["headers"]))
    _assert_unauthorized(client.post("/auth/refresh", headers=_bearer(refresh)))


def test_logout_with_the_refresh_token_ends_the_access_token(api, client):
    user = api.user()
    assert client.post("/auth/logout", headers=_bearer(user["tokens"]["refresh_token"])).status_code == 200
    _assert_unauthorized(client.get("/auth/me", headers=user["headers"]))


def test_other_logins_of_the_same_user_keep_working(api, client):
    user = api.user()
    phone = api.login(user["email"])
    assert client.post("/auth/logout", headers=user["headers"]).status_code == 200
    assert client.get("/auth/me", headers=_bearer(phone["access_token"])).status_code == 200
    assert client.post("/auth/refresh", headers=_bearer(phone["refresh_token"])).status_code == 200


def test_logging_out_twice_is_fine(api, client):
    user = api.user()
    assert client.post("/auth/logout", headers=_bearer(user["tokens"]["refresh_token"])).status_code == 200
    _assert_unauthorized(client.post("/auth/logout", headers=user["headers"]))


def test_tokens_from_before_login_sessions_still_log_out(api, app, client):
    """Tokens issued before logins carried a session id (no `sid` claim) are revoked one by one, as before."""
    user = api.register()
    with app.app_context():
        account = db.session.get(User, user["id"])
        access = create_access_token(identity=account)
        refresh = create_refresh_token(identity=account, expires_delta=timedelta(days=1))
    assert client.post("/auth/logout", headers=_bearer(access)).status_code == 200
    _assert_unauthorized(client.get("/auth/me", headers=_bearer(access)))
    assert client.post("/auth/refresh", headers=_bearer(refresh)).status_code == 200


def test_the_lock_routes_refuse_a_logged_out_token_and_a_deleted_account(api, app, client):
    """The lock routes check the token's account and revocation in their own statement on
    PostgreSQL (security.checks_token_itself), not in the usual lookup: the answers stay the same."""
    seats = api.seed(rows="A", per_row=4)["seat_ids"]
    user, gone = api.user(), api.user()
    assert client.post(f"/seats/{seats[0]}/lock", headers=user["headers"]).status_code == 200
    assert client.post("/auth/logout", headers=user["headers"]).status_code == 200
    for send in (
        lambda headers: client.post(f"/seats/{seats[1]}/lock", headers=headers),
        lambda headers: client.post(f"/lock/{seats[1]}", headers=headers),
        lambda headers: client.post("/lock", json={"seatId": seats[1]}, headers=headers),
    ):
        answer = send(user["headers"])
        _assert_unauthorized(answer)
        assert answer.get_json()["message"] == "The token has been revoked."
    with app.app_context():
        db.session.delete(db.session.get(User, gone["id"]))
        db.session.commit()
    answer = client.post(f"/seats/{seats[1]}/lock", headers=gone["headers"])
    _assert_unauthorized(answer)
    assert answer.get_json()["message"] == "The token's account no longer exists."
    assert client.get(f"/seats/{seats[1]}").get_json()["seat"]["status"] == "available"
