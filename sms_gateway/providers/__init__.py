"""SMS providers and the registry ``get_provider(name, **options)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from sms_gateway.errors import ConfigurationError
from sms_gateway.providers.base import SmsProvider

#: Credentials the simulator accepts unless told otherwise (it is a local test double).
SIMULATOR_ACCESS_KEY_ID: Final = "simulator"
SIMULATOR_ACCESS_KEY_SECRET: Final = "simulator-secret"


def _aliyun(**options: Any) -> SmsProvider:
    # Imported lazily: the SDK is only needed when Aliyun is actually used.
    from sms_gateway.providers.aliyun import AliyunProvider

    return AliyunProvider(**options)


def _simulator(**options: Any) -> SmsProvider:
    options.setdefault("endpoint", "http://127.0.0.1:8900")
    options.setdefault("access_key_id", SIMULATOR_ACCESS_KEY_ID)
    options.setdefault("access_key_secret", SIMULATOR_ACCESS_KEY_SECRET)
    return _aliyun(**options)


def _console(**options: Any) -> SmsProvider:
    from sms_gateway.providers.console import ConsoleProvider

    return ConsoleProvider(**options)


def _memory(**options: Any) -> SmsProvider:
    from sms_gateway.providers.memory import MemoryProvider

    return MemoryProvider(**options)


PROVIDERS: Final[dict[str, Callable[..., SmsProvider]]] = {
    "aliyun": _aliyun,
    "simulator": _simulator,  # the aliyun provider pointed at a local simulator
    "console": _console,
    "memory": _memory,
}


def get_provider(name: str, **options: Any) -> SmsProvider:
    """Build the provider called ``name`` with constructor ``options``.

    ``aliyun``: access_key_id, access_key_secret, endpoint, protocol, region_id,
    connect_timeout, read_timeout, pool_size. ``simulator``: the same, defaulting to
    http://127.0.0.1:8900 and the simulator's credentials. ``console``: stream,
    templates. ``memory``: templates. Raises ConfigurationError for an unknown name.
    """
    factory = PROVIDERS.get(name)
    if factory is None:
        raise ConfigurationError(
            "UNKNOWN_PROVIDER", f"unknown SMS provider {name!r}; choose from {sorted(PROVIDERS)}"
        )
    try:
        return factory(**options)
    except TypeError as exc:
        raise ConfigurationError("PROVIDER_OPTIONS", f"{name}: {exc}") from None


__all__ = ["PROVIDERS", "SmsProvider", "get_provider"]
