"""Bearer authentication reads the token's user on every request (the database is the
truth: a deactivated or deleted account is refused at the next request), one query."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.tokens import AccessToken

from backend.accounts.models import User

pytestmark = pytest.mark.django_db


def _client(api: Any, token: str) -> Any:
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def test_the_tokens_user_is_read_once_per_request(api: Any, world: Any) -> None:
    guardian = world.guardians[0][0]
    client = _client(api, str(AccessToken.for_user(guardian)))
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/devices/")
    assert response.status_code == 200
    user_reads = [q["sql"] for q in queries.captured_queries if 'FROM "accounts_user"' in q["sql"]]
    assert len(user_reads) == 1
    assert f"= {guardian.pk}" in user_reads[0]


def test_deactivation_and_deletion_refuse_the_next_request(api: Any, world: Any) -> None:
    guardian, other = world.guardians[0][0], world.guardians[0][1]
    token, other_token = str(AccessToken.for_user(guardian)), str(AccessToken.for_user(other))
    assert _client(api, token).get("/api/v1/me/").status_code == 200

    User.objects.filter(pk=guardian.pk).update(is_active=False)
    refused = _client(api, token).get("/api/v1/me/")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "account_disabled"

    User.objects.filter(pk=guardian.pk).update(is_active=True)
    assert _client(api, token).get("/api/v1/me/").status_code == 200

    User.objects.filter(pk=other.pk).delete()
    gone = _client(api, other_token).get("/api/v1/me/")
    assert gone.status_code == 401
    assert gone.json()["error"]["code"] == "token_invalid"


def test_a_token_without_a_usable_user_id_is_refused(api: Any, world: Any) -> None:
    guardian = world.guardians[0][0]
    for claim in (None, "not-a-number", 2**70, -1, str(guardian.pk)):
        token = AccessToken.for_user(guardian)
        if claim is None:
            del token["user_id"]
        else:
            token["user_id"] = claim
        response = _client(api, str(token)).get("/api/v1/me/")
        if claim == str(guardian.pk):
            # A string id (another issuer's habit) still names the user: simplejwt's path.
            assert response.status_code == 200
            assert response.json()["id"] == guardian.pk
        else:
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "token_invalid"
