"""The bench database: created and migrated on first use, then seeded once with one
school sized like a big Chinese primary school (100 classes × 50 students, one guardian
each) plus a teacher and a school admin. Seeding is skipped when the school exists."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "bench.settings"
CLASSES = 100
CLASS_SIZE = 50
SCHOOL_CODE = "BENCH-1"


def bench_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    env["DJANGO_SETTINGS_MODULE"] = SETTINGS
    env.setdefault("PYTHONPATH", str(ROOT))
    env.update(extra)
    return env


def django_setup() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    import django

    django.setup()


def ensure_database() -> None:
    """CREATE DATABASE jiaxiao_bench if missing, then migrate (quietly)."""
    import psycopg

    env = bench_env()
    import dj_database_url

    url = env.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/jiaxiao_bench"
    cfg = dj_database_url.parse(url)
    name = cfg["NAME"]
    admin = psycopg.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=int(cfg["PORT"] or 5432),
        user=cfg["USER"] or "postgres",
        password=cfg["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )


@dataclass(frozen=True)
class World:
    school_id: int
    class_ids: list[int]
    teacher_id: int
    admin_id: int
    guardian_ids_by_class: dict[int, list[int]]


def seed() -> World:
    """Create (once) and describe the bench school. Needs django_setup() first."""
    from django.db import transaction

    from backend.accounts.models import User
    from backend.schools.models import ClassMembership, Grade, Guardianship, Org, OrgAdmin, SchoolClass

    school = Org.objects.filter(code=SCHOOL_CODE).first()
    if school is None:
        with transaction.atomic():
            province = Org.add_root(name="压测省", kind=Org.Kind.PROVINCE)
            city = province.add_child(name="压测市", kind=Org.Kind.CITY)
            county = city.add_child(name="压测区", kind=Org.Kind.COUNTY)
            school = county.add_child(name="压测小学", kind=Org.Kind.SCHOOL, code=SCHOOL_CODE)
            # Quiet hours off so pushes are never held back by the time of day.
            Org.objects.filter(pk=school.pk).update(quiet_hours_start="00:00", quiet_hours_end="00:00")
            grades = [Grade.objects.create(school=school, name=f"{g}年级", level=g) for g in range(1, 7)]
            classes = SchoolClass.objects.bulk_create(
                [
                    SchoolClass(school=school, grade=grades[i % 6], name=f"{i % 6 + 1}年级{i // 6 + 1}班")
                    for i in range(CLASSES)
                ]
            )
            teacher = User.objects.create_user(
                phone="19900000001", password="bench-pass-2026", name="压测老师"
            )
            admin = User.objects.create_user(phone="19900000002", password="bench-pass-2026", name="压测校管")
            OrgAdmin.objects.create(org=school, user=admin, role=OrgAdmin.Role.SCHOOL_ADMIN)
            ClassMembership.objects.bulk_create(
                [
                    ClassMembership(school_class=c, user=teacher, role=ClassMembership.Role.TEACHER)
                    for c in classes
                ]
            )
            n = CLASSES * CLASS_SIZE
            students = User.objects.bulk_create(
                [User(student_number=f"B{i:07d}", name=f"学生{i}", password="!") for i in range(n)],
                batch_size=2000,
            )
            guardians = User.objects.bulk_create(
                [User(phone=f"1980{i:07d}", name=f"家长{i}", password="!") for i in range(n)],
                batch_size=2000,
            )
            ClassMembership.objects.bulk_create(
                [
                    ClassMembership(
                        school_class=classes[i // CLASS_SIZE], user=s, role=ClassMembership.Role.STUDENT
                    )
                    for i, s in enumerate(students)
                ],
                batch_size=2000,
            )
            Guardianship.objects.bulk_create(
                [
                    Guardianship(guardian=g, student=s, relation=Guardianship.Relation.MOTHER)
                    for g, s in zip(guardians, students, strict=True)
                ],
                batch_size=2000,
            )
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("ANALYZE")  # plans for the loaded tables, not empty ones
    class_ids = list(SchoolClass.objects.filter(school=school).order_by("id").values_list("id", flat=True))
    teacher_id = User.objects.get(phone="19900000001").pk
    admin_id = User.objects.get(phone="19900000002").pk
    by_class: dict[int, list[int]] = {cid: [] for cid in class_ids}
    for cid, gid in (
        Guardianship.objects.filter(
            student__class_memberships__school_class_id__in=class_ids,
            student__class_memberships__role=ClassMembership.Role.STUDENT,
        )
        .order_by("guardian_id")
        .values_list("student__class_memberships__school_class_id", "guardian_id")
    ):
        by_class[cid].append(gid)
    return World(school.pk, class_ids, teacher_id, admin_id, by_class)


def access_token(user_id: int) -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    from backend.accounts.models import User

    return str(AccessToken.for_user(User.objects.get(pk=user_id)))
