"""The configured outgoing provider and the platform's templates as the provider sees them.

This module (with the rest of backend.sms) is the only importer of `sms_gateway`."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings

from sms_gateway.providers import SmsProvider, get_provider
from sms_gateway.templates import Template

from .catalog import FREE_TEXT, PLATFORM_TEMPLATES

# Providers that carry any text, not just approved templates.
_FREE_TEXT_PROVIDERS = frozenset({"console", "memory"})

_lock = threading.Lock()
_provider: SmsProvider | None = None


def template(name: str) -> Template:
    """The platform template `name` with the deployment's provider code. KeyError if unknown."""
    base = PLATFORM_TEMPLATES[name]
    codes: dict[str, str] = getattr(settings, "SMS_TEMPLATE_CODES", {})
    return Template(
        code=codes.get(name, name),
        text=base.text,
        max_lengths=dict(base.max_lengths),
        free_text=base.free_text,
    )


def outgoing_provider() -> SmsProvider:
    """The provider named by settings.SMS_PROVIDER, built once per process."""
    global _provider
    with _lock:
        if _provider is None:
            options: dict[str, Any] = dict(getattr(settings, "SMS_PROVIDER_OPTIONS", {}))
            if settings.SMS_PROVIDER in _FREE_TEXT_PROVIDERS:
                options.setdefault("templates", {t.code: t for t in map(template, PLATFORM_TEMPLATES)})
            _provider = get_provider(str(settings.SMS_PROVIDER), **options)
        return _provider


def reset_provider() -> None:
    """Forget the built provider (tests switch settings)."""
    global _provider
    with _lock:
        _provider = None


def provider_supports_free_text() -> bool:
    """Whether the configured provider carries free text. Aliyun sends approved templates
    only; the console and memory providers carry anything; a gateway that has an approved
    pass-through template (e.g. a CMPP provincial gateway, or the simulator) is declared
    with settings.SMS_FREE_TEXT = True and SMS_TEMPLATE_CODES["free_text"]."""
    declared = getattr(settings, "SMS_FREE_TEXT", None)
    if declared is not None:
        return bool(declared)
    provider = outgoing_provider()
    capability = getattr(provider, "supports_free_text", None)
    if isinstance(capability, bool):
        return capability
    return str(settings.SMS_PROVIDER) in _FREE_TEXT_PROVIDERS


def provider_names() -> frozenset[str]:
    """Names under which the configured provider's webhooks are accepted."""
    return frozenset({str(settings.SMS_PROVIDER), outgoing_provider().name})


__all__ = [
    "FREE_TEXT",
    "outgoing_provider",
    "provider_names",
    "provider_supports_free_text",
    "reset_provider",
    "template",
]
