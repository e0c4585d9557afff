"""Writes about app installations (push targets)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import Device, User

from .users import user_mark_app_login


@transaction.atomic
def device_register(*, user: User, platform: str, token: str) -> tuple[Device, bool]:
    """Register an app installation for push. Returns (device, created). A token moves to
    whoever registers it last (a phone handed from one parent to another must not keep
    pushing to the first)."""
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


def device_delete(*, device: Device) -> None:
    """Forget an installation (logout on that phone, app removed)."""
    device.delete()


def devices_forget(*, tokens: Iterable[str]) -> int:
    """Drop installations whose push tokens the push service reported as gone
    (uninstalled app, invalid token). Returns how many were removed."""
    deleted, _ = Device.objects.filter(token__in=list(tokens)).delete()
    return deleted
