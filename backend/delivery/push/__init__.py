"""Push transport: the delivery service hands it PushMessages and acts on the PushResults.

A pure transport: no models, no other backend apps; it reads only django.conf.settings
(PUSH_BACKEND, FCM_*)."""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import PushBackend, PushMessage, PushOutcome, PushResult
from .retry import MAX_ATTEMPTS, backoff_delay, parse_retry_after

__all__ = [
    "MAX_ATTEMPTS",
    "PushBackend",
    "PushMessage",
    "PushOutcome",
    "PushResult",
    "backoff_delay",
    "parse_retry_after",
    "push_backend",
    "reset_push_backend",
]

_lock = threading.Lock()
_backend: PushBackend | None = None


def push_backend() -> PushBackend:
    """The backend named by settings.PUSH_BACKEND ("console" default, "memory", "fcm"),
    built once per process."""
    global _backend
    with _lock:
        if _backend is None:
            _backend = _build(str(getattr(settings, "PUSH_BACKEND", "console")))
        return _backend


def reset_push_backend() -> None:
    """Close and forget the built backend (tests switch settings)."""
    global _backend
    with _lock:
        backend, _backend = _backend, None
    if backend is not None:
        backend.close()


def _build(name: str) -> PushBackend:
    # Imported on demand: firebase-admin is only loaded where FCM is configured.
    if name == "console":
        from .console import ConsolePushBackend

        return ConsolePushBackend()
    if name == "memory":
        from .memory import MemoryPushBackend

        return MemoryPushBackend()
    if name == "fcm":
        from .fcm import FcmPushBackend

        return FcmPushBackend()
    raise ImproperlyConfigured(f"PUSH_BACKEND must be console, memory or fcm, not {name!r}")
