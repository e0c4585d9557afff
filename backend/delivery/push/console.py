"""The embedded default: pushes are printed, never sent, and kept for a look in the shell."""

from __future__ import annotations

import itertools
import sys
import threading
from collections import deque
from collections.abc import Sequence
from typing import TextIO

from .base import PushBackend, PushMessage, PushOutcome, PushResult

# A development server runs for days; keep the recent pushes only.
OUTBOX_SIZE = 1000


class ConsolePushBackend(PushBackend):
    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.outbox: deque[PushMessage] = deque(maxlen=OUTBOX_SIZE)

    def send(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        stream = self._stream or sys.stdout
        results: list[PushResult] = []
        with self._lock:
            for message in messages:
                self.outbox.append(message)
                flag = " [urgent]" if message.urgent else ""
                print(f"[push] {_short(message.token)} {message.title}{flag}", file=stream)
                results.append(
                    PushResult(message.token, PushOutcome.SENT, message_id=f"console/{next(self._ids)}")
                )
        return results


def _short(token: str) -> str:
    # Tokens are credentials of a sort and ~160 characters long: show a recognisable prefix.
    return token if len(token) <= 12 else f"{token[:12]}…"
