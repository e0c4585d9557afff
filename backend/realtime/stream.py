"""Per-socket delivery state: every event frame goes out in seq order, once, with no
gaps, whether it arrives live from the channel layer or is replayed from the log.

The consumer handles one message at a time (channels dispatches sequentially), so live
events that arrive during a replay wait in the channel and are seen afterwards: those
already replayed are dropped, and a hole (a live event the layer dropped) is filled
from the database before the newer event is sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Frame = dict[str, Any]
# (after_seq, before_seq or None, limit) -> frames with after_seq < seq < before_seq, oldest first
FetchFrames = Callable[[int, int | None, int], Awaitable[list[Frame]]]
LatestSeq = Callable[[], Awaitable[int]]
# (after_seq, limit) -> (latest seq, then up to `limit` frames after after_seq, oldest
# first; none when after_seq >= latest), read in that order: one hand-off for a resume.
ResumePage = Callable[[int, int], Awaitable[tuple[int, list["Frame"]]]]
SendFrame = Callable[[Frame], Awaitable[None]]

REPLAY_PAGE_SIZE = 500


class EventStream:
    def __init__(
        self,
        *,
        fetch: FetchFrames,
        latest_seq: LatestSeq,
        send: SendFrame,
        resume_page: ResumePage | None = None,
    ) -> None:
        self._fetch = fetch
        self._latest_seq = latest_seq
        self._send = send
        self._resume_page = resume_page
        # The seq of the last event frame sent on this socket; None until the first one
        # (before a resume, live events are sent as they come).
        self.last_seq: int | None = None

    async def live(self, frame: Frame) -> None:
        seq = int(frame["seq"])
        if self.last_seq is not None:
            if seq <= self.last_seq:
                return  # already sent (replayed, or a duplicate)
            if seq > self.last_seq + 1:
                await self._replay(self.last_seq, before_seq=seq)
        await self._emit(frame)

    async def resume(self, after_seq: int) -> int:
        """Replay everything after `after_seq` from the log, page by page; returns the
        seq to announce in `resumed` (the client's new cursor)."""
        # Read before the replay so an event committed meanwhile is never skipped.
        if self._resume_page is not None:
            latest, first_page = await self._resume_page(after_seq, REPLAY_PAGE_SIZE)
        else:
            latest, first_page = await self._latest_seq(), None
        # The client's cursor rules from here; a cursor beyond the log (a restored
        # database) is pulled back to what exists.
        self.last_seq = min(after_seq, latest)
        if after_seq < latest:  # a client that is up to date costs no replay query
            await self._replay(after_seq, before_seq=None, first_page=first_page)
        return self.last_seq

    async def catch_up(self) -> None:
        """Send what the log holds beyond the last frame sent: events whose live copy
        never came (published while a restarted Redis had forgotten this socket's group)."""
        if self.last_seq is not None and await self._latest_seq() > self.last_seq:
            await self._replay(self.last_seq, before_seq=None)

    async def _replay(
        self, after_seq: int, *, before_seq: int | None, first_page: list[Frame] | None = None
    ) -> None:
        """Send the log's frames after `after_seq` page by page; `first_page`, when the
        caller has already read it (resume_page), is the first."""
        cursor, frames = after_seq, first_page
        while True:
            if frames is None:
                frames = await self._fetch(cursor, before_seq, REPLAY_PAGE_SIZE)
            for frame in frames:
                await self._emit(frame)
            if len(frames) < REPLAY_PAGE_SIZE:
                return
            cursor, frames = int(frames[-1]["seq"]), None

    async def _emit(self, frame: Frame) -> None:
        await self._send(frame)
        self.last_seq = int(frame["seq"])
