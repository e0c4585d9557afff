"""Background delivery of simulated SmsReport / SmsUp webhooks, in batches."""

from __future__ import annotations

import logging
import queue
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from sms_gateway.callbacks import DeliveryReport, Reply, reply_body, report_body

log = logging.getLogger(__name__)
T = TypeVar("T")
POST_ATTEMPTS = 3


def check_callback_url(url: str | None) -> str | None:
    """Refuse anything but http(s) URLs (urllib would also open file:// and ftp://)."""
    if url is not None and urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"callback URL must be http(s): {url!r}")
    return url


@dataclass
class _Due(Generic[T]):
    due: float
    item: T


class CallbackDispatcher(Generic[T]):
    """Turns submitted items into reports and replies after ``delay`` and POSTs them.

    ``process(batch)`` decides each item's outcome (and updates the simulator's state);
    the dispatcher only batches, waits and posts. Reports go before replies: a parent
    answers a text after it arrived.
    """

    def __init__(
        self,
        process: Callable[[Sequence[T]], tuple[list[DeliveryReport], list[Reply]]],
        *,
        report_url: str | None,
        reply_url: str | None,
        delay: float,
        batch_size: int,
    ) -> None:
        self._process = process
        self.report_url = check_callback_url(report_url)
        self.reply_url = check_callback_url(reply_url)
        self.delay = delay
        self.batch_size = max(1, batch_size)
        self.posted_reports = 0
        self.posted_replies = 0
        self.failed_posts = 0
        self._queue: queue.SimpleQueue[_Due[T]] = queue.SimpleQueue()
        self._pending = 0
        self._idle = threading.Condition()
        self._stop = threading.Event()
        self._open = threading.Event()  # cleared by hold(): nothing is settled or posted
        self._open.set()
        self._thread = threading.Thread(target=self._run, name="sms-sim-callbacks", daemon=True)

    def start(self) -> None:
        """Start the background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current batch; undelivered items are dropped."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def hold(self) -> None:
        """Keep submitted items pending (not settled, nothing posted) until :meth:`release`."""
        self._open.clear()

    def release(self) -> None:
        """Settle and post what :meth:`hold` kept back, and everything after it."""
        self._open.set()

    def submit(self, items: Sequence[T]) -> None:
        """Schedule ``items`` for processing ``delay`` seconds from now."""
        due = time.monotonic() + self.delay
        with self._idle:
            self._pending += len(items)
        for item in items:
            self._queue.put(_Due(due, item))

    def wait_idle(self, timeout: float) -> bool:
        """Block until every submitted item was processed and posted; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = [self._queue.get(timeout=0.05)]
            except queue.Empty:
                continue
            while len(batch) < self.batch_size:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            wait = batch[-1].due - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            while not self._open.wait(0.05):
                if self._stop.is_set():
                    return
            try:
                reports, replies = self._process([d.item for d in batch])
                if reports and self.report_url:
                    self.posted_reports += self._post(self.report_url, report_body(reports), len(reports))
                if replies and self.reply_url:
                    self.posted_replies += self._post(self.reply_url, reply_body(replies), len(replies))
            except Exception:  # one bad batch must not kill the callback thread
                log.exception("simulated callback batch failed")
            finally:
                with self._idle:
                    self._pending -= len(batch)
                    self._idle.notify_all()

    def _post(self, url: str, body: bytes, count: int) -> int:
        """POST ``body``; return ``count`` on success, 0 after the last failed attempt."""
        # The URL scheme was checked in check_callback_url.
        request = urllib.request.Request(  # noqa: S310
            url, data=body, method="POST", headers={"Content-Type": "application/json;charset=utf-8"}
        )
        for attempt in range(1, POST_ATTEMPTS + 1):
            try:
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                    response.read()
                return count
            except OSError as exc:  # URLError and HTTPError are OSErrors
                log.warning("callback POST to %s failed (attempt %d): %s", url, attempt, exc)
                if self._stop.wait(0.1 * attempt):
                    break
        self.failed_posts += 1
        return 0
