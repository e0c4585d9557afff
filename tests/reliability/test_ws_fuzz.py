"""WebSocket frame fuzzing: seeded generated client frames (wrong types, missing fields,
oversize, deep nesting, binary, random unicode, huge numbers) against the events consumer.
What must hold: every frame is answered (pong, resumed, an error frame, or a close code
for binary/oversize), the consumer never crashes (1011) and still answers ping."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async

from backend.realtime.frames import (
    CLOSE_SERVER_ERROR,
    CLOSE_TOO_BIG,
    CLOSE_UNSUPPORTED_DATA,
    MAX_CLIENT_FRAME_BYTES,
    MAX_SEQ,
)
from tests.realtime.conftest import Communicator as _Communicator
from tests.realtime.conftest import _channel_layer, bearer

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["_channel_layer"]  # the realtime suite's fresh-layer fixture, autouse here too

SEED = 20261123
CI_FRAMES = int(os.environ.get("RELIABILITY_WS_FRAMES", "2000"))
FULL_FRAMES = 10_000
ERROR_CODES = {"invalid_json", "invalid_frame", "frame_too_deep", "invalid_after_seq", "unknown_type"}


def _scalar(rng: random.Random) -> Any:
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            MAX_SEQ,
            MAX_SEQ + 1,
            10**30,
            -(10**30),
            1.5,
            1e308,
            "",
            "ping",
            "resume",
            "家" * rng.randint(1, 50),
            rng.randint(-(2**70), 2**70),
            "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(1, 20))),
        ]
    )


def _nested(rng: random.Random, depth: int) -> str:
    """Text nesting `depth` levels (built as text: json.dumps itself recurses)."""
    text = json.dumps(_scalar(rng))
    for _ in range(depth):
        text = f"[{text}]" if rng.random() < 0.5 else f'{{"type":"ping","x":{text}}}'
    return text


def frames(n: int, seed: int = SEED) -> Iterator[tuple[str, Any]]:
    """(kind, payload): payload is bytes for binary frames, else the text sent."""
    rng = random.Random(seed)
    for _ in range(n):
        kind = rng.choice(
            ["ping", "resume", "wrong_type", "missing", "unknown", "nested", "unicode", "number", "big",
             "binary", "truncated", "extra"]
        )  # fmt: skip
        if kind == "ping":
            yield kind, json.dumps({"type": "ping"})
        elif kind == "resume":
            yield kind, json.dumps({"type": "resume", "after_seq": _scalar(rng)}, allow_nan=True)
        elif kind == "wrong_type":
            yield kind, json.dumps(rng.choice([[], [1, 2], 3, "ping", None, True, {"type": _scalar(rng)}]))
        elif kind == "missing":
            yield kind, json.dumps(rng.choice([{}, {"after_seq": 1}, {"typ": "ping"}]))
        elif kind == "unknown":
            yield kind, json.dumps({"type": rng.choice(["PING", "subscribe", "event", "", "pong", " ping"])})
        elif kind == "nested":
            yield kind, _nested(rng, rng.choice([2, 8, 9, 50, 1000]))
        elif kind == "unicode":
            yield kind, "".join(chr(rng.randint(1, 0xFFFF)) for _ in range(rng.randint(1, 200)))
        elif kind == "number":
            yield kind, rng.choice(["1" * rng.randint(1, 6000), "1e400", "-1e400", "NaN", "Infinity",
                                     '{"type":"resume","after_seq":' + "9" * rng.randint(19, 5000) + "}"])  # fmt: skip
        elif kind == "big":
            char = rng.choice(["a", "家", "😀"])
            pad = char * (MAX_CLIENT_FRAME_BYTES // len(char.encode()) + rng.randint(1, 5000))
            yield kind, json.dumps({"type": "ping", "pad": pad}, ensure_ascii=False)
        elif kind == "binary":
            yield kind, rng.randbytes(rng.randint(1, 64))
        elif kind == "truncated":
            yield kind, json.dumps({"type": "resume", "after_seq": 1})[: rng.randint(1, 25)]
        else:
            yield (
                kind,
                json.dumps({"type": "ping", **{f"k{i}": _scalar(rng) for i in range(rng.randint(1, 5))}}),
            )


async def _open(user: Any) -> Any:
    from backend.asgi import application

    ws = _Communicator(application, "/ws/v1/events/", headers=bearer(user))
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from() == {"type": "pong"}, "a fresh socket must answer ping"
    return ws


async def _fuzz(user: Any, n: int) -> dict[str, int]:
    answered: dict[str, int] = {}
    ws = await _open(user)
    try:
        for kind, payload in frames(n):
            if isinstance(payload, bytes):
                await ws.send_to(bytes_data=payload)
            else:
                await ws.send_to(text_data=payload)
            output = await ws.receive_output()
            if output["type"] == "websocket.close":
                code = int(output["code"])
                assert code != CLOSE_SERVER_ERROR, f"consumer crashed on {kind}: {str(payload)[:200]}"
                expected = CLOSE_UNSUPPORTED_DATA if kind == "binary" else CLOSE_TOO_BIG
                assert code == expected, f"{kind} closed with {code}"
                answered[f"close {code}"] = answered.get(f"close {code}", 0) + 1
                await ws.disconnect()
                ws = await _open(user)
                continue
            assert kind not in ("binary", "big"), f"{kind} frame was not refused: {output}"
            frame = json.loads(output["text"])
            while kind == "resume" and "seq" in frame and frame["type"] != "resumed":
                answered["replayed"] = answered.get("replayed", 0) + 1  # the one stored event
                frame = await ws.receive_json_from()
            if frame["type"] == "error":
                assert frame["code"] in ERROR_CODES, frame
            else:
                assert frame["type"] in ("pong", "resumed"), frame
            key = frame.get("code") or frame["type"]
            answered[key] = answered.get(key, 0) + 1
        await ws.send_json_to({"type": "ping"})
        assert await ws.receive_json_from() == {"type": "pong"}
        assert await ws.receive_nothing(0.05)
    finally:
        await ws.disconnect()
    return answered


@pytest.fixture
def user(db: Any) -> Any:
    from backend.accounts.models import User

    return User.objects.create_user("13600000001", None, name="模糊测试家长")


def test_the_generator_covers_every_kind_of_bad_frame() -> None:
    kinds = {kind for kind, _ in frames(2000)}
    assert kinds == {"ping", "resume", "wrong_type", "missing", "unknown", "nested", "unicode", "number",
                     "big", "binary", "truncated", "extra"}  # fmt: skip
    assert [p for _, p in frames(50)] == [p for _, p in frames(50)]  # seeded: reproducible


async def test_generated_frames_never_crash_the_consumer(user: Any) -> None:
    from backend.realtime.services import send_event_on_commit

    await database_sync_to_async(send_event_on_commit)([user], "notice.recalled", {"notice_id": 1})
    answered = await _fuzz(user, CI_FRAMES)

    assert answered["pong"] > 0
    assert answered["resumed"] > 0
    assert answered["close 1003"] > 0
    assert answered["close 1009"] > 0
    assert {"invalid_json", "invalid_frame", "frame_too_deep", "invalid_after_seq", "unknown_type"} <= set(
        answered
    )
    assert sum(answered.values()) - answered.get("replayed", 0) == CI_FRAMES


@pytest.mark.slow
async def test_ten_thousand_generated_frames_never_crash_the_consumer(user: Any) -> None:
    answered = await _fuzz(user, FULL_FRAMES)

    assert sum(answered.values()) - answered.get("replayed", 0) == FULL_FRAMES
