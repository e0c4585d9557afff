"""Broadcast throughput: how many WebSocket messages per second one core of ASGI process
delivers. 500 sockets (quick: 200) of distinct users on 2 daphne processes; the bench
process sends M events to every user's group through the product's channel layer
(`group_send_many`, the fan-out path), as fast as it can. Delivered frames are divided by
the CPU seconds the 2 daphne processes used (from /proc) while delivering them.

Baseline: 2 bare `websockets` servers fed by Redis PUBLISH (one PUBLISH per message,
broadcast to all their clients), the same sockets and frame count."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from bench.core import Result, alternate, daphne_cmd, free_port, median, processes
from bench.fleet import Fleet, cpu_seconds, log, mass_guardians, mass_school, tokens_for

BATCH = 500


def _wait_delivered(fleet: Fleet, expected: int, timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        stats = fleet.command("STATS", "STATS")
        total = sum(int(s["total"]) for s in stats)
        if total >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    firsts = [s["first"] for s in stats if s["first"]]
    return {
        "total": total,
        "first": min(firsts) if firsts else 0.0,
        "last": max(s["last"] for s in stats),
        "gaps": sum(int(s["gaps"]) for s in stats),
        "errors": sum(int(s["error_count"]) for s in stats),
    }


def _stack_once(
    fleet: Fleet, pids: list[int], user_ids: list[int], rounds: int, state: dict[str, int]
) -> dict[str, Any]:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    fleet.command("RESET", "RESET")
    base = state["seq"]
    state["seq"] += rounds
    messages = [
        (
            f"user.{uid}",
            {
                "type": "realtime.event",
                "frame": {"type": "bench.tick", "seq": base + k + 1, "ts": "", "data": {"k": k}},
            },
        )
        for k in range(rounds)
        for uid in user_ids
    ]

    async def send_all() -> None:
        for start in range(0, len(messages), BATCH):
            await layer.group_send_many(messages[start : start + BATCH])

    cpu0 = sum(cpu_seconds(p) for p in pids)
    t0 = time.time()
    async_to_sync(send_all)()
    published = time.time() - t0
    out = _wait_delivered(fleet, len(messages), 60)
    cpu = sum(cpu_seconds(p) for p in pids) - cpu0
    return {**out, "cpu": cpu, "t0": t0, "published_s": published}


def _bare_once(fleet: Fleet, pids: list[int], redis_url: str, rounds: int, sockets: int) -> dict[str, Any]:
    import redis

    r = redis.Redis.from_url(redis_url)
    fleet.command("RESET", "RESET")
    cpu0 = sum(cpu_seconds(p) for p in pids)
    t0 = time.time()
    for k in range(rounds):
        r.publish(
            "bench-bare", json.dumps({"type": "bench.tick", "seq": k + 1, "ts": "", "data": {"k": k}, "k": k})
        )
    out = _wait_delivered(fleet, rounds * sockets, 60)
    cpu = sum(cpu_seconds(p) for p in pids) - cpu0
    return {**out, "cpu": cpu, "t0": t0, "published_s": time.time() - t0}


def run(quick: bool, world: Any) -> list[Result]:
    from django.conf import settings

    mass_school()
    sockets, rounds, repeats = (200, 25, 1) if quick else (500, 20, 2)
    user_ids = mass_guardians(sockets)
    tokens = tokens_for(user_ids)
    redis_url = str(settings.REDIS_URL)
    stack_ports, bare_ports = [free_port(), free_port()], [free_port(), free_port()]
    commands = [daphne_cmd(p) for p in stack_ports] + [
        [sys.executable, "-m", "bench.loadgen.bare_ws", "--port", str(p), "--redis", redis_url]
        for p in bare_ports
    ]
    state = {"seq": 0}
    with processes(commands, stack_ports + bare_ports) as procs:
        stack_pids, bare_pids = [p.pid for p in procs[:2]], [p.pid for p in procs[2:]]
        extra = ["--live", "--no-times"]
        stack_urls = [f"ws://127.0.0.1:{p}/ws/v1/events/" for p in stack_ports]
        bare_urls = [f"ws://127.0.0.1:{p}/" for p in bare_ports]
        with (
            Fleet("stack", stack_urls, tokens, extra=extra) as stack_fleet,
            Fleet("bare", bare_urls, [None] * sockets, extra=extra) as bare_fleet,
        ):
            log(f"broadcast: {stack_fleet.connected()} + {bare_fleet.connected()} sockets connected")
            _stack_once(stack_fleet, stack_pids, user_ids, 2, state)  # warm up
            bare_runs, stack_runs = alternate(
                repeats,
                # 10× the rounds: the bare servers use so little CPU that /proc's 10 ms
                # ticks would otherwise decide the figure.
                lambda: _bare_once(bare_fleet, bare_pids, redis_url, rounds * 10, bare_fleet.connected()),
                lambda: _stack_once(stack_fleet, stack_pids, user_ids, rounds, state),
            )

    def per_core(run_: dict[str, Any]) -> float:
        return float(run_["total"]) / max(run_["cpu"], 1e-9)

    def per_second(run_: dict[str, Any]) -> float:
        return float(run_["total"]) / max(run_["last"] - run_["t0"], 1e-9)

    s_core, b_core = median([per_core(r) for r in stack_runs]), median([per_core(r) for r in bare_runs])
    s_wall, b_wall = median([per_second(r) for r in stack_runs]), median([per_second(r) for r in bare_runs])
    expected = sockets * rounds
    lost = sum(expected - int(r["total"]) for r in stack_runs)
    gaps = sum(int(r["gaps"]) for r in stack_runs)
    label = " (quick: 200 sockets)" if quick else ""
    note = (
        f"{sockets} sockets × {rounds} messages (baseline × {rounds * 10}), n={repeats}; stack frames missing {lost}, seq gaps {gaps}; "
        f"CPU counted: the 2 server processes only (Redis not counted)"
    )
    return [
        Result(
            "broadcast",
            f"messages delivered per second per core{label}",
            s_core,
            "msgs/core-s",
            baseline=b_core,
            target="≥ 0.5× baseline",
            met=s_core >= 0.5 * b_core and lost == 0,
            note=note,
        ),
        Result(
            "broadcast",
            f"messages delivered per second, 2 processes, wall clock{label}",
            s_wall,
            "msgs/s",
            baseline=b_wall,
            note="first publish → last frame received",
        ),
    ]
