"""REST: GET /api/v1/events/ (the fallback without a socket) and POST realtime/ticket/."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import transaction

from backend.realtime.services import realtime_ticket_take, send_event_on_commit

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events/"
TICKET = "/api/v1/realtime/ticket/"


def send(users: list[Any], n: int) -> None:
    with transaction.atomic():
        send_event_on_commit(users, "test.happened", {"n": n})


def test_events_page_through_the_log_in_order(
    user: Any, make_user: Any, client_for: Any, django_assert_num_queries: Any, test_event: str
) -> None:
    other = make_user()
    for n in range(1, 6):
        send([user, other] if n % 2 else [user], n)
    client = client_for(user)
    with django_assert_num_queries(3):  # the user (JWT), their latest seq, the page
        first = client.get(EVENTS, {"after_seq": 0, "limit": 2})
    assert first.status_code == 200
    body = first.json()
    assert [(f["type"], f["seq"], f["data"]) for f in body["results"]] == [
        (test_event, 1, {"n": 1}),
        (test_event, 2, {"n": 2}),
    ]
    assert set(body["results"][0]) == {"type", "seq", "ts", "data"}
    assert body["results"][0]["ts"].endswith("+08:00")
    assert body["last_seq"] == 2
    assert parse_qs(urlparse(body["next"]).query) == {"after_seq": ["2"], "limit": ["2"]}

    seen = [f["seq"] for f in body["results"]]
    while body["next"]:
        body = client.get(body["next"]).json()
        seen += [f["seq"] for f in body["results"]]
    assert seen == [1, 2, 3, 4, 5]
    assert body["last_seq"] == 5
    assert [f["data"]["n"] for f in client_for(other).get(EVENTS).json()["results"]] == [1, 3, 5]


def test_up_to_date_and_ahead_of_the_log(user: Any, client_for: Any) -> None:
    send([user], 1)
    client = client_for(user)
    assert client.get(EVENTS, {"after_seq": 1}).json() == {"results": [], "next": None, "last_seq": 1}
    # A cursor beyond the log (a restored database) is pulled back to what exists.
    assert client.get(EVENTS, {"after_seq": 9}).json() == {"results": [], "next": None, "last_seq": 1}
    assert client.get(EVENTS).json()["last_seq"] == 1  # after_seq defaults to 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"after_seq": "-1"}, "after_seq"),
        ({"after_seq": "abc"}, "after_seq"),
        ({"after_seq": str(2**64)}, "after_seq"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
    ],
)
def test_bad_query_is_a_400_with_the_field(
    user: Any, client_for: Any, query: dict[str, str], field: str
) -> None:
    response = client_for(user).get(EVENTS, query)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]


def test_both_endpoints_need_a_token(api: Any) -> None:
    assert api.get(EVENTS).json()["error"]["code"] == "not_authenticated"
    response = api.post(TICKET)
    assert response.status_code == 401
    api.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    assert api.get(EVENTS).status_code == 401


def test_ticket_is_single_use_and_bound_to_the_caller(user: Any, client_for: Any) -> None:
    response = client_for(user).post(TICKET)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"ticket", "expires_in"}
    assert body["expires_in"] == 30
    assert len(body["ticket"]) >= 32
    assert realtime_ticket_take(ticket=body["ticket"]) == user.pk
    assert realtime_ticket_take(ticket=body["ticket"]) is None


def test_ticket_ttl_comes_from_settings(user: Any, client_for: Any, settings: Any) -> None:
    settings.REALTIME_TICKET_TTL = 12
    assert client_for(user).post(TICKET).json()["expires_in"] == 12


def test_tickets_are_rate_limited(user: Any, client_for: Any) -> None:
    client = client_for(user)
    statuses = [client.post(TICKET).status_code for _ in range(31)]
    assert statuses == [200] * 30 + [429]
    assert client.post(TICKET).json()["error"]["code"] == "rate_limited"
