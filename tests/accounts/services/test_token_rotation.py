"""token_refresh under concurrency: one refresh token rotates once, however many race."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from backend.accounts.services import token_pair_issue, token_refresh, user_ensure
from backend.conventions.errors import ApiError


@pytest.mark.postgres
@pytest.mark.slow
def test_concurrent_refreshes_of_one_token_rotate_it_once(transactional_db):
    user, _ = user_ensure(name="并发家长", phone="13600000077", password="pw-123456")
    refresh = token_pair_issue(user=user).refresh
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def use() -> None:
        start.wait()
        try:
            token_refresh(refresh=refresh)
            outcomes.append("rotated")
        except ApiError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["rotated", "token_invalid", "token_invalid", "token_invalid"]
