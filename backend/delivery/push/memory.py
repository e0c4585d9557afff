"""A push backend for tests: records what was sent and answers what the test scripted."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .base import PushBackend, PushMessage, PushOutcome, PushResult

_ERROR_CODES = {
    PushOutcome.UNREGISTERED: "UNREGISTERED",
    PushOutcome.INVALID_TOKEN: "INVALID_ARGUMENT",
    PushOutcome.INVALID_PAYLOAD: "INVALID_ARGUMENT",
    PushOutcome.RETRY: "UNAVAILABLE",
    PushOutcome.FAILED: "SENDER_ID_MISMATCH",
}


@dataclass(frozen=True)
class _Scripted:
    outcome: PushOutcome
    retry_after: float | None
    error_code: str | None


class MemoryPushBackend(PushBackend):
    """`outbox` holds the messages that were SENT (what phones would show); `attempts` every
    (message, result) pair in order, failures included. A token answers SENT unless
    `script()` queued other outcomes for it; each send to it consumes one."""

    name = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._scripts: dict[str, deque[_Scripted]] = {}
        self.outbox: list[PushMessage] = []
        self.attempts: list[tuple[PushMessage, PushResult]] = []

    def script(
        self,
        token: str,
        outcomes: Iterable[PushOutcome],
        *,
        retry_after: float | None = None,
        error_code: str | None = None,
    ) -> None:
        """Queue the next outcomes for `token`; `retry_after` applies to its RETRY answers."""
        queue = self._scripts.setdefault(token, deque())
        for outcome in outcomes:
            queue.append(
                _Scripted(
                    outcome=PushOutcome(outcome),
                    retry_after=retry_after if outcome == PushOutcome.RETRY else None,
                    error_code=None if outcome == PushOutcome.SENT else error_code or _ERROR_CODES[outcome],
                )
            )

    def send(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        results: list[PushResult] = []
        with self._lock:
            for message in messages:
                queue = self._scripts.get(message.token)
                step = queue.popleft() if queue else None
                if step is None or step.outcome == PushOutcome.SENT:
                    result = PushResult(
                        message.token, PushOutcome.SENT, message_id=f"memory/{next(self._ids)}"
                    )
                    self.outbox.append(message)
                else:
                    result = PushResult(
                        message.token, step.outcome, error_code=step.error_code, retry_after=step.retry_after
                    )
                self.attempts.append((message, result))
                results.append(result)
        return results

    def sent_to(self, token: str) -> list[PushMessage]:
        with self._lock:
            return [m for m in self.outbox if m.token == token]

    def clear(self) -> None:
        with self._lock:
            self._scripts.clear()
            self.outbox.clear()
            self.attempts.clear()
