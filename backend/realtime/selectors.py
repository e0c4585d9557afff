"""Reads of the realtime gateway: the event log (for resume and the REST fallback),
and presence (for the delivery pipeline: websocket now, or push)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser

from backend.conventions.prepared import PreparedQuery

from .frames import event_frame
from .models import UserEvent, UserEventCounter
from .presence import socket_counts


def user_event_frames_after(
    *, user_id: int, after_seq: int, limit: int, before_seq: int | None = None
) -> list[dict[str, Any]]:
    """Up to `limit` frames with after_seq < seq (< before_seq), oldest first; one
    index range scan on (user, seq)."""
    events = UserEvent.objects.filter(user_id=user_id, seq__gt=after_seq)
    if before_seq is not None:
        events = events.filter(seq__lt=before_seq)
    rows = events.order_by("seq").values_list("type", "seq", "created_at", "data")[:limit]
    return [
        event_frame(event_type=event_type, seq=seq, created_at=created_at, data=data)
        for event_type, seq, created_at, data in rows
    ]


# Compiled once per process: every socket's resume reads it, and building and compiling
# the queryset cost several times running it (bench/ reconnect_storm, py-spy).
_COUNTER = PreparedQuery(lambda user_id: UserEventCounter.objects.filter(user_id=user_id), {"user_id": int})


def user_latest_seq(*, user_id: int) -> int:
    """The last seq handed out to the user (0 before their first event)."""
    counter = _COUNTER.first(user_id=int(user_id))
    return int(counter.last_seq) if counter is not None else 0


def user_resume_page(*, user_id: int, after_seq: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
    """What a socket's resume needs, in one call: the user's latest seq, then up to
    `limit` frames after `after_seq` (none when the client is up to date). The latest is
    read first, so an event committed in between is in the frames or arrives live, never
    lost. Two queries (one when up to date)."""
    latest = user_latest_seq(user_id=user_id)
    if after_seq >= latest:
        return latest, []
    return latest, user_event_frames_after(user_id=user_id, after_seq=after_seq, limit=limit)


def user_active_get(*, user_id: int) -> AbstractBaseUser | None:
    """The user if they exist and may use the app, else None."""
    user: AbstractBaseUser | None = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    return user


def presence_socket_counts(user_ids: Iterable[int]) -> dict[int, int]:
    """Open sockets per user across all ASGI processes; users with none are left out.
    One Redis round trip however many ids."""
    return socket_counts(int(uid) for uid in user_ids)


def presence_online_user_ids(user_ids: Iterable[int]) -> set[int]:
    """The users among `user_ids` with at least one open socket right now (push to the
    others). Sync, one Redis round trip for any number of ids."""
    return set(presence_socket_counts(user_ids))


@dataclass(frozen=True)
class EventsPage:
    frames: list[dict[str, Any]]
    has_more: bool
    last_seq: int  # the cursor to continue from


def user_events_page(*, user_id: int, after_seq: int, limit: int) -> EventsPage:
    """One page of the REST fallback: frames after `after_seq`, oldest first. With no
    frames, `last_seq` is the client's cursor pulled back to what exists (a client
    cannot be ahead of the log). Two queries."""
    # Read before the page so an event committed in between is never skipped.
    latest = user_latest_seq(user_id=user_id)
    frames = user_event_frames_after(user_id=user_id, after_seq=after_seq, limit=limit + 1)
    has_more = len(frames) > limit
    frames = frames[:limit]
    last_seq = int(frames[-1]["seq"]) if frames else min(after_seq, latest)
    return EventsPage(frames=frames, has_more=has_more, last_seq=last_seq)
