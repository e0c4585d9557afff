"""The ``console`` provider: the embedded default, prints each message and keeps an outbox."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TextIO

from sms_gateway.providers.memory import MemoryProvider, OutboxMessage
from sms_gateway.templates import Template


class ConsoleProvider(MemoryProvider):
    """Prints every accepted message to ``stream`` (stdout by default) and keeps an outbox."""

    name = "console"

    def __init__(
        self, *, stream: TextIO | None = None, templates: Mapping[str, Template] | None = None
    ) -> None:
        super().__init__(templates=templates)
        self.stream = stream

    def _accepted(self, message: OutboxMessage) -> None:
        stream = self.stream if self.stream is not None else sys.stdout
        print(f"[sms] to {message.phone} ({message.biz_id}): {message.text}", file=stream)
