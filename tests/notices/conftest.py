"""Fixtures for notices: the demo school at a daytime hour, helpers to post notices,
read the push and SMS outboxes, open sockets, and build big classes quickly.

Speed: the demo data is seeded once per test module inside a transaction that is
rolled back when the module ends; each test runs in a savepoint inside it. Work that
waits for a commit (events, push, SMS, Celery tasks) is run at the end of each request
or call wrapped in `committed()`, exactly as it would run after a real commit; a
request that fails rolls its callbacks back as a real one would. The WebSocket test
needs real commits and seeds its own data (test_realtime.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import count
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.db import transaction
from rest_framework_simplejwt.tokens import AccessToken

from backend.delivery.push import push_backend
from backend.delivery.rules import SHANGHAI
from backend.sms.outbox import sent_messages
from tests.committing import committing_client_for, run  # noqa: F401 - run: imported by the tests

# A school day at 10:00: outside quiet hours, so pushes and texts go at once.
DAYTIME = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
WS_PATH = "/ws/v1/events/"

_numbers = count(1)


@pytest.fixture(autouse=True)
def daytime(time_machine: Any) -> None:
    time_machine.move_to(DAYTIME)


@pytest.fixture(autouse=True)
def _clean_push_outbox() -> Any:
    backend = push_backend()
    backend.clear()  # type: ignore[attr-defined]
    yield
    backend.clear()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def _demo_module(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        call_command("seed_demo", verbosity=0)
    yield
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def demo_people() -> Any:
    """The people of the demo data, as the suite-wide `demo` fixture names them."""
    from backend.accounts.auth_backends import find_user_by_login
    from backend.accounts.models import User

    class Demo:
        admin = User.objects.get(phone="13800000000")
        head2 = User.objects.get(phone="13800000001")
        head1 = User.objects.get(phone="13800000002")
        bureau = User.objects.get(phone="13800000009")

        @staticmethod
        def user(login: str) -> Any:
            return find_user_by_login(login)

    return Demo


@pytest.fixture
def demo(_demo_module: None, db: Any) -> Any:
    """The demo data of API.md (seeded once per module, see above)."""
    return demo_people()


@pytest.fixture
def client_for() -> Callable[[Any], Any]:
    """Authenticated clients whose requests end as a committed transaction would."""
    return committing_client_for


def pushed_tokens() -> list[str]:
    return sorted(m.token for m in push_backend().outbox)  # type: ignore[attr-defined]


def texted() -> list[Any]:
    return sent_messages()


def texted_phones() -> list[str]:
    return sorted(m.phone for m in sent_messages())


@pytest.fixture
def school(demo: Any) -> Any:
    from backend.schools.models import Org

    return Org.objects.get(name="洛阳市西工区示范小学")


@pytest.fixture
def class1(demo: Any) -> Any:
    from backend.schools.models import SchoolClass

    return SchoolClass.objects.get(name="三年级(1)班")


@pytest.fixture
def class2(demo: Any) -> Any:
    from backend.schools.models import SchoolClass

    return SchoolClass.objects.get(name="三年级(2)班")


@pytest.fixture
def guardians2(demo: Any) -> list[Any]:
    """Guardians 13900000001–30 of 三年级(2)班; 01–20 have the app."""
    return [demo.user(f"139000000{i:02d}") for i in range(1, 31)]


@pytest.fixture
def guardians1(demo: Any) -> list[Any]:
    return [demo.user(f"137000000{i:02d}") for i in range(1, 31)]


def notice_input(class_ids: list[int] | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "春游通知",
        "body": "本周五春游，请家长为孩子准备午餐和饮用水。",
        "audience": "guardians",
        "require_confirmation": True,
        "urgent": False,
    }
    if class_ids is not None:
        body["class_ids"] = class_ids
    body.update(overrides)
    return body


@pytest.fixture
def post_notice(client_for: Callable[[Any], Any]) -> Callable[..., Any]:
    def post(
        author: Any, class_ids: list[int] | None = None, *, key: str | None = None, **overrides: Any
    ) -> Any:
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        return client_for(author).post(
            "/api/v1/notices/", notice_input(class_ids, **overrides), format="json", **headers
        )

    return post


def build_class(*, school: Any, grade: Any, name: str, families: int, teacher: Any = None) -> Any:
    """A class of `families` students, each with one guardian, written with bulk_create
    (5,000 families in about a second)."""
    from backend.accounts.models import User
    from backend.schools.models import ClassMembership, Guardianship, SchoolClass

    batch = next(_numbers)
    school_class = SchoolClass.objects.create(school=school, grade=grade, name=name)
    students = User.objects.bulk_create(
        [User(student_number=f"B{batch:03d}{i:05d}", name=f"学生{i}") for i in range(families)]
    )
    guardians = User.objects.bulk_create(
        [User(phone=f"15{batch:03d}{i:06d}", name=f"家长{i}") for i in range(families)]
    )
    ClassMembership.objects.bulk_create(
        [
            ClassMembership(school_class=school_class, user=s, role=ClassMembership.Role.STUDENT)
            for s in students
        ]
    )
    Guardianship.objects.bulk_create(
        [
            Guardianship(guardian=g, student=s, relation=Guardianship.Relation.MOTHER)
            for g, s in zip(guardians, students, strict=True)
        ]
    )
    if teacher is not None:
        ClassMembership.objects.create(
            school_class=school_class, user=teacher, role=ClassMembership.Role.TEACHER
        )
    return school_class


def bearer(user: Any) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {AccessToken.for_user(user)}".encode())]


async def socket_for(user: Any) -> WebsocketCommunicator:
    """An authenticated, running socket on the real ASGI application."""
    from backend.asgi import application

    communicator = WebsocketCommunicator(application, WS_PATH, headers=bearer(user))
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    return communicator


async def next_frame(communicator: WebsocketCommunicator, seconds: float = 2) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await communicator.receive_from(seconds))
    return frame


@pytest.fixture
def uploaded(settings, tmp_path):
    """Files uploaded by `user` (as the app would through POST files/), returning ids."""
    from django.core.files.base import ContentFile

    from backend.files.models import File

    settings.MEDIA_ROOT = tmp_path

    def make(user, count: int = 1) -> list[int]:
        return [
            File.objects.create(
                owner=user,
                kind="file",
                content_type="application/pdf",
                name=f"附件{i}.pdf",
                size=9,
                sha256="0" * 64,
                blob=ContentFile(b"%PDF-1.4\n", name=f"a{i}.pdf"),
            ).pk
            for i in range(count)
        ]

    return make
