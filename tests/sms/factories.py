"""Bulk people for large audiences (a query per table, not per person)."""

from __future__ import annotations

import itertools
from typing import Any

from backend.accounts.models import User
from backend.schools.models import ClassMembership, Guardianship

_serial = itertools.count(1)


def add_guardians(school_class: Any, count: int) -> list[User]:
    """`count` new students in the class, each with one guardian who has a phone."""
    batch = next(_serial)
    students = User.objects.bulk_create(
        [
            User(name=f"学生{batch}-{i}", student_number=f"B{batch:03d}{i:06d}", password="!")
            for i in range(count)
        ],
        batch_size=2000,
    )
    guardians = User.objects.bulk_create(
        [User(name=f"家长{batch}-{i}", phone=f"139{batch:02d}{i:06d}", password="!") for i in range(count)],
        batch_size=2000,
    )
    ClassMembership.objects.bulk_create(
        [ClassMembership(school_class=school_class, user=s, role="student") for s in students],
        batch_size=2000,
    )
    Guardianship.objects.bulk_create(
        [
            Guardianship(guardian=g, student=s, relation="母亲")
            for g, s in zip(guardians, students, strict=True)
        ],
        batch_size=2000,
    )
    return guardians
