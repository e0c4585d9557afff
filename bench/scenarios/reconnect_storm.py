"""Reconnect storm: 5,000 authenticated sockets (quick: 500) on 2 daphne processes drop
at once (a network blip); while they are away, 2 events per user are written and
published through the product (`send_event_on_commit`); then every socket reconnects,
the starts spread evenly over 10 s (quick: 1 s, the same 500/s), and resumes from its
cursor. Measured: accepts per second, connect (handshake) p99, whether every socket got
exactly the events it missed, and how long the Redis client count (`CLIENT LIST` on the
bench's database) takes to come back to its level before the storm.

Baseline: 2 bare `websockets` servers, the same reconnect storm (no auth, no resume)."""

from __future__ import annotations

import sys
import time
from typing import Any

from bench.core import Result, daphne_cmd, free_port, percentile, processes
from bench.fleet import Fleet, log, mass_guardians, mass_school, redis_clients, tokens_for, wait_until

MISSED = 2


def _publish_missed(user_ids: list[int], marker: int) -> float:
    from django.db import transaction

    from backend.notices.events import NOTICE_CREATED
    from backend.realtime.services import send_event_on_commit

    t = time.perf_counter()
    for k in range(MISSED):
        with transaction.atomic():
            send_event_on_commit(user_ids, NOTICE_CREATED, {"notice_id": marker + k})
    return time.perf_counter() - t


def _storm(fleet: Fleet, spread: float) -> dict[str, Any]:
    t0 = time.time()
    rows = fleet.command(f"RECONNECT {spread}", "RECONNECTED")
    opened = [t for r in rows for t in r["opened"]]
    resumed = [t for r in rows for t in r["resumed"]]
    return {
        "all_resumed_s": max(resumed) - t0 if resumed else float("nan"),
        "connected": sum(int(r["connected"]) for r in rows),
        "rate": len(opened) / max(max(opened) - t0, 1e-9) if opened else 0.0,
        "p99": percentile([x for r in rows for x in r["latencies"]], 99),
        "recovered": [x for r in rows for x in r.get("recovered", [])],
        "failed": [e for r in rows for e in r["failed"]],
    }


def run(quick: bool, world: Any) -> list[Result]:
    from django.conf import settings

    mass_school()
    sockets, spread, settle = (500, 1.0, 20.0) if quick else (5_000, 10.0, 60.0)
    user_ids = mass_guardians(sockets)
    tokens = tokens_for(user_ids)
    redis_url = str(settings.REDIS_URL)
    stack_ports, bare_ports = [free_port(), free_port()], [free_port(), free_port()]
    bare_cmds = [
        [sys.executable, "-m", "bench.loadgen.bare_ws", "--port", str(p), "--redis", redis_url]
        for p in bare_ports
    ]
    bare_urls = [f"ws://127.0.0.1:{p}/" for p in bare_ports]
    with processes(bare_cmds, bare_ports), Fleet("bare", bare_urls, [None] * sockets) as fleet:
        fleet.command("CLOSE", "CLOSED")
        bare = _storm(fleet, spread)
    log(f"reconnect_storm: bare storm {bare['rate']:.0f} accepts/s")
    with processes([daphne_cmd(p) for p in stack_ports], stack_ports):
        urls = [f"ws://127.0.0.1:{p}/ws/v1/events/" for p in stack_ports]
        with Fleet("stack", urls, tokens) as fleet:
            log(f"reconnect_storm: {fleet.connected():,} connected")
            time.sleep(2)
            normal = redis_clients(redis_url)
            fleet.command("CLOSE", "CLOSED")
            publish_s = _publish_missed(user_ids, 900_000_000 + int(time.time()) % 1_000_000 * 10)
            stack = _storm(fleet, spread)
            log(f"reconnect_storm: storm {stack['rate']:.0f} accepts/s")
            peak = redis_clients(redis_url)
            t = time.monotonic()
            # "Normal": at most 10 % (and 5 connections) above the level before the storm.
            back = wait_until(lambda: redis_clients(redis_url) <= normal * 1.1 + 5, settle, every=1.0)
            back_s = time.monotonic() - t if back else float("nan")
            after = redis_clients(redis_url)
            stats = fleet.end()
    short = sum(1 for x in stack["recovered"] if x < MISSED)
    extra = sum(max(0, x - MISSED) for x in stack["recovered"])
    errors = [e for s in stats for e in s["errors"]] + stack["failed"]
    label = " (quick: 500 sockets over 1 s)" if quick else ""
    note = (
        f"{stack['connected']:,} of {sockets:,} reconnected (bare {bare['connected']:,}); starts spread over "
        f"{spread:g} s; every socket resumed after {stack['all_resumed_s']:.1f} s"
    )
    if errors:
        note += f"; errors: {errors[:2]}"
    return [
        Result(
            "reconnect_storm",
            f"accepts/s, {sockets:,} sockets reconnecting{label}",
            stack["rate"],
            "accepts/s",
            baseline=bare["rate"],
            target="≥ 500/s",
            met=stack["rate"] >= 500 and stack["connected"] == sockets,
            note=note,
        ),
        Result(
            "reconnect_storm",
            f"connect p99 (ms){label}",
            stack["p99"] * 1000,
            "ms",
            baseline=bare["p99"] * 1000,
            target="≤ 1,000 ms",
            met=stack["p99"] <= 1.0,
            note="handshake only; the resume replay follows it",
        ),
        Result(
            "reconnect_storm",
            f"sockets that missed events after resume{label}",
            float(short),  # a socket that failed to reconnect recovered nothing: counted here
            "sockets",
            target="0",
            met=short == 0 and stack["connected"] == sockets,
            note=f"{MISSED} events per user published while away ({publish_s:.2f} s); "
            f"{sockets - stack['connected']} of the {short} did not reconnect; frames recovered beyond them: {extra}",
        ),
        Result(
            "reconnect_storm",
            f"Redis clients back to normal (s){label}",
            back_s,
            "s",
            target=f"≤ {settle:g} s",
            met=bool(back),
            note=f"bench DB clients: {normal} before the storm, {peak} right after it, {after} at the end",
        ),
    ]
