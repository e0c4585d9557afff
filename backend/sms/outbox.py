"""What the console/memory provider has sent in this process (for tests and demos)."""

from __future__ import annotations

from sms_gateway.providers.memory import MemoryProvider, OutboxMessage

from .providers import outgoing_provider


def _memory() -> MemoryProvider:
    provider = outgoing_provider()
    if not isinstance(provider, MemoryProvider):
        raise RuntimeError("the outbox exists only with the console or memory SMS provider")
    return provider


def memory_provider() -> MemoryProvider:
    """The in-process provider itself, for tests that script failures or build reports."""
    return _memory()


def sent_messages() -> list[OutboxMessage]:
    return list(_memory().outbox)


def clear_outbox() -> None:
    """Empty the outbox, and forget scripted failures; a no-op for other providers."""
    provider = outgoing_provider()
    if isinstance(provider, MemoryProvider):
        provider.outbox.clear()
        provider.clear_failures()
