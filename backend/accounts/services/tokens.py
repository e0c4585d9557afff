"""JWT pairs (simplejwt): issue, rotate, revoke. Refresh tokens are recorded as
outstanding when issued and blacklisted when rotated, revoked or the account is turned
off, so a copied refresh token works at most until its owner next refreshes."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from backend.accounts.errors import account_disabled, token_invalid
from backend.accounts.models import User
from backend.audit.models import AuditRecord
from backend.audit.services import audit_record


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def token_pair_issue(*, user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def _parse_refresh(raw: str) -> RefreshToken | None:
    """A valid, unexpired, not blacklisted refresh token, or None."""
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]
    except TokenError:
        return None


def token_refresh(*, refresh: str) -> TokenPair:
    """Rotate: blacklist `refresh` and issue a new pair. Of two concurrent uses of one
    refresh token only one wins (the outstanding row is locked while blacklisting)."""
    token = _parse_refresh(refresh)
    if token is None:
        raise token_invalid()
    user_id = token.payload.get(api_settings.USER_ID_CLAIM)
    user = User.objects.filter(pk=user_id).first() if user_id else None
    if user is None:
        raise token_invalid()
    if not user.is_active:
        raise account_disabled()
    with transaction.atomic():
        outstanding = (
            OutstandingToken.objects.select_for_update()
            .filter(jti=token.payload[api_settings.JTI_CLAIM])
            .first()
        )
        if outstanding is None:
            raise token_invalid()
        _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
        if not created:
            raise token_invalid()
        return token_pair_issue(user=user)


def token_revoke(*, refresh: str, user: User, ip: str | None = None) -> bool:
    """Blacklist the caller's own refresh token (logout). Returns False, changing
    nothing, for a token that is invalid or already revoked, and for someone else's
    (audited as denied: holding another person's token is worth a look)."""
    token = _parse_refresh(refresh)
    if token is None:
        return False
    owner_id = str(token.payload.get(api_settings.USER_ID_CLAIM))
    if owner_id != str(user.pk):
        audit_record(
            action="auth.logout",
            actor=user,
            object_type="accounts.user",
            object_id=owner_id,
            result=AuditRecord.Result.DENIED,
            ip=ip,
            detail={"reason": "foreign_token"},
        )
        return False
    outstanding = OutstandingToken.objects.filter(
        jti=token.payload[api_settings.JTI_CLAIM], user=user
    ).first()
    if outstanding is None:
        return False
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    if created:
        audit_record(action="auth.logout", actor=user, obj=user, ip=ip)
    return created


def tokens_revoke_all(*, user: User) -> int:
    """Blacklist every unexpired refresh token of the user. Returns how many."""
    pending = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    rows = [BlacklistedToken(token=token) for token in pending]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
