"""POST auth/token/refresh/ and auth/logout/, and how bad bearer tokens are answered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from backend.accounts.models import User
from backend.audit.models import AuditRecord


@pytest.fixture
def tokens(world, password_login):
    """A fresh login of the first guardian: {"access", "refresh", "user"}."""
    return password_login(world.guardians[0][0].phone).json()


def refresh(api, token):
    return api.post("/api/v1/auth/token/refresh/", {"refresh": token}, format="json")


def logout(api, access, token):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    try:
        return api.post("/api/v1/auth/logout/", {"refresh": token}, format="json")
    finally:
        api.credentials()


def me(api, access):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    try:
        return api.get("/api/v1/me/")
    finally:
        api.credentials()


def test_refresh_rotates_the_pair(api, tokens):
    response = refresh(api, tokens["refresh"])

    assert response.status_code == 200
    pair = response.json()
    assert set(pair) == {"access", "refresh"}
    assert pair["refresh"] != tokens["refresh"]
    assert me(api, pair["access"]).json()["id"] == tokens["user"]["id"]
    assert refresh(api, pair["refresh"]).status_code == 200


def test_a_rotated_refresh_token_cannot_be_replayed(api, tokens):
    refresh(api, tokens["refresh"])

    replay = refresh(api, tokens["refresh"])

    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "token_invalid"


@pytest.mark.parametrize("kind", ["garbage", "access"])
def test_refresh_refuses_what_is_not_a_refresh_token(api, tokens, kind):
    token = "not.a.jwt" if kind == "garbage" else tokens["access"]

    response = refresh(api, token)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_refresh_refuses_an_expired_refresh_token(api, world, password_login, clock):
    issued = password_login(world.guardians[0][0].phone).json()

    clock.shift(timedelta(days=7, seconds=1))

    assert refresh(api, issued["refresh"]).json()["error"]["code"] == "token_invalid"


def test_refresh_refuses_a_deactivated_account(api, tokens):
    # Even a token that escaped blacklisting is refused once the account is off.
    User.objects.filter(pk=tokens["user"]["id"]).update(is_active=False)

    response = refresh(api, tokens["refresh"])

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "account_disabled"


def test_refresh_ignores_a_stale_bearer_header(api, tokens):
    api.credentials(HTTP_AUTHORIZATION="Bearer stale.token.here")

    assert refresh(api, tokens["refresh"]).status_code == 200


def test_missing_refresh_is_a_400(db, api):
    response = api.post("/api/v1/auth/token/refresh/", {}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_logout_blacklists_the_refresh_token(api, tokens):
    response = logout(api, tokens["access"], tokens["refresh"])

    assert response.status_code == 204
    after = refresh(api, tokens["refresh"])
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "token_invalid"
    [row] = AuditRecord.objects.filter(action="auth.logout")
    assert row.actor_id == tokens["user"]["id"]
    assert row.result == "success"


def test_logout_twice_or_with_garbage_still_answers_204(api, tokens):
    logout(api, tokens["access"], tokens["refresh"])

    assert logout(api, tokens["access"], tokens["refresh"]).status_code == 204
    assert logout(api, tokens["access"], "garbage").status_code == 204


def test_logout_leaves_someone_elses_token_alone(api, world, tokens, password_login):
    other = password_login(world.teachers[0].phone).json()

    response = logout(api, tokens["access"], other["refresh"])

    assert response.status_code == 204
    assert refresh(api, other["refresh"]).status_code == 200
    [row] = AuditRecord.objects.filter(action="auth.logout")
    assert row.result == "denied"
    assert row.actor_id == tokens["user"]["id"]
    assert row.object_id == str(world.teachers[0].pk)


def test_logout_needs_authentication(api, tokens):
    response = api.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert refresh(api, tokens["refresh"]).status_code == 200


def test_an_expired_access_token_is_token_invalid(api, clock, tokens):
    clock.shift(timedelta(minutes=10, seconds=1))

    response = me(api, tokens["access"])

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer two parts"])
def test_a_bad_bearer_token_is_token_invalid(api, db, header):
    api.credentials(HTTP_AUTHORIZATION=header)

    response = api.get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_a_token_of_an_unknown_user_is_token_invalid(api, db):
    token = AccessToken()
    token["user_id"] = 987654321

    assert me(api, str(token)).json()["error"]["code"] == "token_invalid"


def test_no_token_is_not_authenticated(api, db):
    response = api.get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
