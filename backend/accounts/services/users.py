"""Writes about people: accounts and app-login bookkeeping."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.accounts.phones import normalize_cn_mobile
from backend.audit.services import audit_record
from backend.realtime.services import realtime_disconnect_user_on_commit

from .tokens import tokens_revoke_all


def user_ensure(
    *,
    name: str,
    phone: str | None = None,
    student_number: str | None = None,
    password: str | None = None,
) -> tuple[User, bool]:
    """Find a person by phone (or student number) or create them. Returns (user, created).

    An existing person's password is never reset here."""
    phone = normalize_cn_mobile(phone) if phone else None
    user = None
    if phone:
        user = User.objects.filter(phone=phone).first()
    elif student_number:
        user = User.objects.filter(student_number=student_number).first()
    if user is not None:
        return user, False
    user = User.objects.create_user(phone, password, student_number=student_number, name=name)
    return user, True


def user_mark_app_login(*, user: User) -> None:
    """Remember the first time a person used the app: until then delivery texts them."""
    if user.first_app_login_at is None:
        now = timezone.now()
        User.objects.filter(pk=user.pk, first_app_login_at__isnull=True).update(first_app_login_at=now)
        user.first_app_login_at = now


@transaction.atomic
def user_deactivate(*, user: User, actor: User | None) -> None:
    """Turn an account off: no new logins, every outstanding refresh token blacklisted
    (access tokens stop at the next request, which checks is_active), open sockets closed
    after commit, and an audit record."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    revoked = tokens_revoke_all(user=user)
    audit_record(
        action="account.deactivated",
        actor=actor,
        obj=user,
        detail={"revoked_refresh_tokens": revoked},
    )
    realtime_disconnect_user_on_commit(int(user.pk))
