"""Who is opening the socket, and from which page.

Apps send `Authorization: Bearer <access token>` on the handshake; browsers, which
cannot set headers on a WebSocket, send `?ticket=` from POST realtime/ticket/. Tokens
in the URL are never accepted (URLs end up in proxy logs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from rest_framework.exceptions import APIException
from rest_framework.settings import api_settings as drf_settings
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from .selectors import user_active_get
from .services import realtime_ticket_take


def _header_values(scope: dict[str, Any], name: bytes) -> list[bytes]:
    return [value for key, value in scope.get("headers", []) if key.lower() == name]


def origin_allowed(scope: dict[str, Any]) -> bool:
    """No Origin (a native app) is fine. A browser's Origin must be one of
    settings.REALTIME_ALLOWED_ORIGINS ("https://app.example.cn") or a host in
    ALLOWED_HOSTS, matched the way channels' AllowedHostsOriginValidator does."""
    origins = _header_values(scope, b"origin")
    if not origins:
        return True
    if len(origins) > 1:
        return False
    try:
        parsed = urlparse(origins[0].decode("latin-1").strip())
    except ValueError:
        return False
    if parsed.hostname is None or parsed.scheme not in ("http", "https"):
        return False  # "null" (sandboxed pages, file://) and non-web schemes
    patterns = [*getattr(settings, "REALTIME_ALLOWED_ORIGINS", []), *settings.ALLOWED_HOSTS]
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        patterns += ["localhost", "127.0.0.1", "[::1]"]
    try:
        return OriginValidator(None, patterns).validate_origin(parsed)
    except ValueError:  # a malformed port
        return False


@dataclass(frozen=True)
class Credential:
    """What the handshake proved: the user id, and the access token it came from (None
    for tickets). The user row is checked later (`credential_user`), after the socket
    has joined the user's group, so a deactivation that commits in between still
    reaches it."""

    user_id: int
    token: Token | None = None


def credential_needs_thread(scope: dict[str, Any]) -> bool:
    """Whether reading the credential may block: a ticket is taken from the cache, and a
    token with JWK_URL fetches its key. A Bearer token signed with a local key is pure
    CPU (~0.1 ms), cheaper to check on the event loop than a hand-off to a thread."""
    return not _header_values(scope, b"authorization") or bool(jwt_settings.JWK_URL)


def credential_from_scope(scope: dict[str, Any]) -> Credential | None:
    """Read the Authorization header, or else the ticket. None: missing or invalid.
    Sync (the ticket is taken from the cache); call through database_sync_to_async."""
    authorization = _header_values(scope, b"authorization")
    if authorization:
        return _credential_from_header(authorization)
    try:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), max_num_fields=20)
    except ValueError:
        return None
    tickets = query.get("ticket", [])
    if len(tickets) != 1:
        return None
    user_id = realtime_ticket_take(ticket=tickets[0])
    return Credential(user_id=user_id) if user_id is not None else None


def _jwt_authentication() -> JWTAuthentication:
    """The REST API's own JWT authentication class (DRF settings), so whatever the API
    refuses (expired, inactive, revoked) the socket refuses too."""
    for auth_class in drf_settings.DEFAULT_AUTHENTICATION_CLASSES:
        if isinstance(auth_class, type) and issubclass(auth_class, JWTAuthentication):
            return auth_class()
    return JWTAuthentication()


def _credential_from_header(values: list[bytes]) -> Credential | None:
    if len(values) != 1:
        return None
    authentication = _jwt_authentication()
    try:
        raw = authentication.get_raw_token(values[0])
        if raw is None:
            return None  # another scheme than Bearer
        token = authentication.get_validated_token(raw)
        user_id = int(token[jwt_settings.USER_ID_CLAIM])
    except (APIException, TokenError, KeyError, TypeError, ValueError):
        return None
    return Credential(user_id=user_id, token=token)


def credential_user(credential: Credential) -> AbstractBaseUser | None:
    """The active user behind the credential, or None. Tokens go through the API's own
    user rules (inactive, revoked), exactly as on the REST API. Sync (ORM)."""
    if credential.token is None:
        return user_active_get(user_id=credential.user_id)
    try:
        user: AbstractBaseUser = _jwt_authentication().get_user(credential.token)
    except (APIException, TokenError):
        return None
    return user if user.is_active else None
