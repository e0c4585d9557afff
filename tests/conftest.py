"""Fixtures shared by the whole suite: API clients, people and a small school world."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

IN_CI = os.environ.get("CI") == "true"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` / `redis` run when those services are configured. Under
    CI=true a missing service is a failure, never a silent skip."""
    try:
        from django.conf import settings

        engine = settings.DATABASES["default"]["ENGINE"]
    except Exception:  # Django switched off (pytest -p no:django): nothing to select
        return
    has_pg = engine.endswith("postgresql")
    has_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not has_pg:
            item.add_marker(pytest.mark.skip(reason="PostgreSQL not configured (DATABASE_URL)"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="Redis not configured (REDIS_URL)"))


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _clean_sms_outbox() -> Any:
    from backend.sms.outbox import clear_outbox

    clear_outbox()
    yield
    clear_outbox()


@pytest.fixture(autouse=True)
def _clean_push() -> Any:
    from backend.delivery.push import reset_push_backend

    reset_push_backend()
    yield
    reset_push_backend()


@pytest.fixture(autouse=True)
def _event_registry() -> Any:
    """Event types a test registers for itself do not outlive it: the docs checks compare
    the registry with what the product emits and documents."""
    from backend.realtime import registry

    saved = dict(registry._registry)
    yield
    registry._registry.clear()
    registry._registry.update(saved)


@pytest.fixture
def api() -> Any:
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def client_for() -> Callable[[Any], Any]:
    """An APIClient authenticated as `user` with a real access token."""
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    def make(user: Any) -> Any:
        client = APIClient()
        token = RefreshToken.for_user(user).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


@dataclass
class SchoolWorld:
    """Two districts × one school each, two classes per school, with every role."""

    province: Any
    counties: list[Any]
    schools: list[Any]
    classes: list[Any]  # classes[0], [1] in schools[0]; [2], [3] in schools[1]
    teachers: list[Any]  # head teacher of each class, same index
    students: list[list[Any]]  # students[class_index]
    guardians: list[list[Any]]  # guardians[class_index][i] of students[class_index][i]
    school_admins: list[Any]
    bureau_admins: list[Any]
    extra: dict[str, Any] = field(default_factory=dict)


def build_world(students_per_class: int = 3) -> SchoolWorld:
    from backend.accounts.services import user_ensure
    from backend.schools.models import Org, OrgAdmin
    from backend.schools.services import (
        class_get_or_create,
        grade_get_or_create,
        guardianship_link,
        membership_set,
        org_admin_grant,
        org_create,
    )

    province = org_create(name="河南省", kind=Org.Kind.PROVINCE)
    city = org_create(name="洛阳市", kind=Org.Kind.CITY, parent=province)
    counties, schools, classes, teachers, students, guardians = [], [], [], [], [], []
    school_admins, bureau_admins = [], []
    phone = iter(range(13500000000, 13599999999))
    for d, county_name in enumerate(["西工区", "老城区"]):
        county = org_create(name=county_name, kind=Org.Kind.COUNTY, parent=city)
        counties.append(county)
        bureau, _ = user_ensure(name=f"{county_name}教育局", phone=str(next(phone)), password="pw-123456")
        org_admin_grant(org=county, user=bureau, role=OrgAdmin.Role.BUREAU_ADMIN)
        bureau_admins.append(bureau)
        school = org_create(name=f"{county_name}第一小学", kind=Org.Kind.SCHOOL, parent=county)
        schools.append(school)
        admin, _ = user_ensure(name=f"{county_name}校管", phone=str(next(phone)), password="pw-123456")
        org_admin_grant(org=school, user=admin, role=OrgAdmin.Role.SCHOOL_ADMIN)
        school_admins.append(admin)
        grade = grade_get_or_create(school=school, name="三年级", level=3)
        for c in (1, 2):
            school_class = class_get_or_create(school=school, grade=grade, name=f"三年级({c})班")
            classes.append(school_class)
            teacher, _ = user_ensure(name=f"教师{d}{c}", phone=str(next(phone)), password="pw-123456")
            membership_set(school_class=school_class, user=teacher, role="teacher", is_head_teacher=True)
            teachers.append(teacher)
            class_students, class_guardians = [], []
            for i in range(students_per_class):
                student, _ = user_ensure(
                    name=f"学生{d}{c}{i}", student_number=f"S{d}{c}{i:04d}", password="pw-123456"
                )
                membership_set(school_class=school_class, user=student, role="student")
                guardian, _ = user_ensure(name=f"家长{d}{c}{i}", phone=str(next(phone)), password="pw-123456")
                guardianship_link(guardian=guardian, student=student, relation="母亲")
                class_students.append(student)
                class_guardians.append(guardian)
            students.append(class_students)
            guardians.append(class_guardians)
    return SchoolWorld(
        province, counties, schools, classes, teachers, students, guardians, school_admins, bureau_admins
    )


@pytest.fixture
def world(db: Any) -> SchoolWorld:
    return build_world()


@pytest.fixture
def demo(db: Any) -> Any:
    """The demo data of API.md, exactly as `make run` seeds it."""
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    from backend.accounts.models import User

    class Demo:
        admin = User.objects.get(phone="13800000000")
        head2 = User.objects.get(phone="13800000001")
        head1 = User.objects.get(phone="13800000002")
        bureau = User.objects.get(phone="13800000009")

        @staticmethod
        def user(login: str) -> Any:
            from backend.accounts.auth_backends import find_user_by_login

            return find_user_by_login(login)

    return Demo
