"""Writes about people: accounts, devices, login bookkeeping."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import Device, User
from .phones import normalize_cn_mobile


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


@transaction.atomic
def device_register(*, user: User, platform: str, token: str) -> tuple[Device, bool]:
    """Register an app installation for push. A token moves to whoever registers it last
    (a phone handed from one parent to another must not keep pushing to the first)."""
    device, created = Device.objects.select_for_update().get_or_create(
        token=token, defaults={"user": user, "platform": platform}
    )
    if not created:
        device.user = user
        device.platform = platform
        device.last_seen_at = timezone.now()
        device.save(update_fields=["user", "platform", "last_seen_at"])
    user_mark_app_login(user=user)
    return device, created


def user_mark_app_login(*, user: User) -> None:
    if user.first_app_login_at is None:
        User.objects.filter(pk=user.pk, first_app_login_at__isnull=True).update(
            first_app_login_at=timezone.now()
        )
        user.first_app_login_at = timezone.now()


def user_deactivate(*, user: User, actor: Any = None) -> None:
    """Turn an account off. Open sockets are closed by the realtime gateway."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
