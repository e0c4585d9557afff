"""Running code as a committed transaction would, inside a test's transaction: the
on-commit work (tasks, pushes, texts) runs at the end. Shared by the apps whose
behaviour happens after commit (notices, messaging)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.test import TestCase
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


@contextmanager
def committed() -> Iterator[None]:
    """Run what waits for a commit (on_commit callbacks, and those they add) at the end."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield


def run(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a service or task as a worker would: then run its on-commit work."""
    with committed():
        return function(*args, **kwargs)


class CommittingClient(APIClient):
    """An API client whose requests end as a committed transaction would (push, SMS)."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        with committed():
            return super().request(*args, **kwargs)


def committing_client_for(user: Any) -> CommittingClient:
    client = CommittingClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client
