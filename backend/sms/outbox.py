"""What the console/memory provider has sent in this process (for tests and demos)."""

from __future__ import annotations

from sms_gateway.providers.memory import MemoryProvider, OutboxMessage

from .providers import outgoing_provider


def _memory() -> MemoryProvider:
    provider = outgoing_provider()
    if not isinstance(provider, MemoryProvider):
        raise RuntimeError("the outbox exists only with the console or memory SMS provider")
    return provider


def sent_messages() -> list[OutboxMessage]:
    return list(_memory().outbox)


def clear_outbox() -> None:
    _memory().outbox.clear()
