"""The configured outgoing provider and the platform's approved templates.

This module (with the rest of backend.sms) is the only importer of `sms_gateway`."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings

from sms_gateway.providers import SmsProvider, get_provider
from sms_gateway.templates import Template

# Platform templates. The codes are the provider's approved template codes (Aliyun
# "SMS_…"), overridable per deployment through SMS_TEMPLATE_CODES.
PLATFORM_TEMPLATES: dict[str, Template] = {
    "login_code": Template(
        code="login_code",
        text="您的验证码为${code}，5分钟内有效。如非本人操作，请忽略本短信。",
        max_lengths={"code": 6},
    ),
}

_lock = threading.Lock()
_provider: SmsProvider | None = None


def template(name: str) -> Template:
    base = PLATFORM_TEMPLATES[name]
    codes: dict[str, str] = getattr(settings, "SMS_TEMPLATE_CODES", {})
    code = codes.get(name, base.code)
    if code == base.code:
        return base
    return Template(code=code, text=base.text, max_lengths=dict(base.max_lengths))


def outgoing_provider() -> SmsProvider:
    """The provider named by settings.SMS_PROVIDER, built once per process."""
    global _provider
    with _lock:
        if _provider is None:
            options: dict[str, Any] = dict(getattr(settings, "SMS_PROVIDER_OPTIONS", {}))
            if settings.SMS_PROVIDER in ("console", "memory"):
                options.setdefault("templates", {t.code: t for t in map(template, PLATFORM_TEMPLATES)})
            _provider = get_provider(str(settings.SMS_PROVIDER), **options)
        return _provider


def reset_provider() -> None:
    """Forget the built provider (tests switch settings)."""
    global _provider
    with _lock:
        _provider = None
