"""Initial passwords for students, who usually have no phone for SMS login."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from backend.accounts.models import User
from backend.audit.services import audit_record

from .tokens import tokens_revoke_all

# No 0/O, 1/l/I: the password is read off paper by a child.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
LENGTH = 8


@dataclass(frozen=True)
class IssuedPassword:
    user_id: int
    student_number: str
    name: str
    password: str


def student_passwords_issue(*, students: Iterable[User], actor: Any) -> list[IssuedPassword]:
    """Give each student (an account with a student number) a fresh random password and
    sign them out everywhere. The passwords are returned once, to be handed out on paper;
    only the fact is audited, never the password."""
    issued: list[IssuedPassword] = []
    with transaction.atomic():
        for student in students:
            if not student.student_number:
                continue
            password = "".join(secrets.choice(_ALPHABET) for _ in range(LENGTH))
            student.set_password(password)
            student.save(update_fields=["password"])
            tokens_revoke_all(user=student)
            issued.append(IssuedPassword(student.pk, student.student_number, student.name, password))
        if issued:
            audit_record(
                action="account.student_passwords_issued",
                actor=actor,
                object_type="accounts.user",
                detail={"user_ids": [i.user_id for i in issued], "count": len(issued)},
            )
    return issued
