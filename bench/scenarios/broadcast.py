"""Broadcast throughput: how many WebSocket messages per second one core of ASGI process
delivers. 500 sockets (quick: 200) of distinct users on 2 daphne processes; the bench
process sends M events to every user's group through the product's channel layer
(`group_send_many`, the fan-out path), as fast as it can. Delivered frames are divided by
the CPU seconds the 2 daphne processes used (from /proc) while delivering them.

Baseline: 2 bare `websockets` servers fed by Redis PUBLISH (one PUBLISH per message,
broadcast to all their clients), the same sockets and frame count.

Two more rows say where the gap is, measured the same way in the same run: the same bare
servers with one PUBLISH per user's message (every product event is per user: its own
`seq`), and the floor of the required stack — a minimal Channels consumer under daphne on
the product's channel layer (`bench.loadgen.channels_floor`: auth at connect, join the
user's group, forward each frame; nothing else)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from bench.core import Result, daphne_cmd, free_port, median, processes
from bench.fleet import Fleet, cpu_seconds, log, mass_guardians, mass_school, tokens_for

BATCH = 500
FLOOR_PREFIX = "bench-floor"


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


def _layer(prefix: str | None = None) -> Any:
    """The product's channel layer as the bench settings configure it (another prefix:
    a separate set of servers)."""
    from channels.layers import get_channel_layer
    from django.conf import settings
    from django.utils.module_loading import import_string

    if prefix is None:
        return get_channel_layer()
    config = settings.CHANNEL_LAYERS["default"]
    return import_string(config["BACKEND"])(**{**config.get("CONFIG", {}), "prefix": prefix})


def _stack_once(
    fleet: Fleet, pids: list[int], user_ids: list[int], rounds: int, state: dict[str, int], layer: Any
) -> dict[str, Any]:
    from asgiref.sync import async_to_sync

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
            if hasattr(layer, "group_send_many"):
                await layer.group_send_many(messages[start : start + BATCH])
            else:  # BENCH_CHANNEL_LAYER=pubsub: one PUBLISH per group_send
                for group, message in messages[start : start + BATCH]:
                    await layer.group_send(group, message)

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


def _bare_per_user_once(
    fleet: Fleet, pids: list[int], redis_url: str, rounds: int, sockets: int
) -> dict[str, Any]:
    """The bare servers, one PUBLISH per user's message (to that user's socket only)."""
    import redis

    r = redis.Redis.from_url(redis_url)
    fleet.command("RESET", "RESET")
    cpu0 = sum(cpu_seconds(p) for p in pids)
    t0 = time.time()
    for k in range(rounds):
        frame = json.dumps({"type": "bench.tick", "seq": k + 1, "ts": "", "data": {"k": k}, "k": k})
        pipe = r.pipeline(transaction=False)
        for i in range(sockets):
            pipe.publish("bench-bare-to", f"/c{i}\n{frame}")
        pipe.execute()
    out = _wait_delivered(fleet, rounds * sockets, 60)
    cpu = sum(cpu_seconds(p) for p in pids) - cpu0
    return {**out, "cpu": cpu, "t0": t0, "published_s": time.time() - t0}


def _rotate(repeats: int, runs: list[Any]) -> list[list[Any]]:
    """Run every variant once per repeat, the order reversed on every other repeat, so
    drift in machine load hits all of them alike."""
    out: list[list[Any]] = [[] for _ in runs]
    for i in range(repeats):
        order = list(range(len(runs))) if i % 2 == 0 else list(reversed(range(len(runs))))
        for j in order:
            out[j].append(runs[j]())
    return out


def run(quick: bool, world: Any) -> list[Result]:
    from django.conf import settings

    mass_school()
    sockets, rounds, repeats = (200, 25, 1) if quick else (500, 20, 2)
    user_ids = mass_guardians(sockets)
    tokens = tokens_for(user_ids)
    redis_url = str(settings.REDIS_URL)
    stack_ports, bare_ports = [free_port(), free_port()], [free_port(), free_port()]
    floor_ports = [free_port(), free_port()]
    commands = [daphne_cmd(p) for p in stack_ports] + [
        [sys.executable, "-m", "bench.loadgen.bare_ws", "--port", str(p), "--redis", redis_url]
        for p in bare_ports
    ]
    state, floor_state = {"seq": 0}, {"seq": 0}  # each fleet sees its own gap-free seq
    floor_cmds = [daphne_cmd(p, "bench.loadgen.channels_floor:application") for p in floor_ports]
    with (
        processes(commands, stack_ports + bare_ports) as procs,
        processes(floor_cmds, floor_ports, BENCH_LAYER_PREFIX=FLOOR_PREFIX) as floor_procs,
    ):
        stack_pids, bare_pids = [p.pid for p in procs[:2]], [p.pid for p in procs[2:]]
        floor_pids = [p.pid for p in floor_procs]
        extra = ["--live", "--no-times"]
        stack_urls = [f"ws://127.0.0.1:{p}/ws/v1/events/" for p in stack_ports]
        bare_urls = [f"ws://127.0.0.1:{p}/" for p in bare_ports]
        floor_urls = [f"ws://127.0.0.1:{p}/" for p in floor_ports]
        layer, floor_layer = _layer(), _layer(FLOOR_PREFIX)
        with (
            Fleet("stack", stack_urls, tokens, extra=extra) as stack_fleet,
            Fleet("bare", bare_urls, [None] * sockets, extra=extra) as bare_fleet,
            Fleet("stack", floor_urls, tokens, extra=extra) as floor_fleet,
        ):
            log(
                f"broadcast: {stack_fleet.connected()} + {bare_fleet.connected()} + "
                f"{floor_fleet.connected()} sockets connected"
            )
            _stack_once(stack_fleet, stack_pids, user_ids, 2, state, layer)  # warm up
            _stack_once(floor_fleet, floor_pids, user_ids, 2, floor_state, floor_layer)
            bare_runs, stack_runs, floor_runs, per_user_runs = _rotate(
                repeats,
                [
                    # 10× the rounds: the bare servers use so little CPU that /proc's 10 ms
                    # ticks would otherwise decide the figure.
                    lambda: _bare_once(bare_fleet, bare_pids, redis_url, rounds * 10, bare_fleet.connected()),
                    lambda: _stack_once(stack_fleet, stack_pids, user_ids, rounds, state, layer),
                    lambda: _stack_once(floor_fleet, floor_pids, user_ids, rounds, floor_state, floor_layer),
                    lambda: _bare_per_user_once(
                        bare_fleet, bare_pids, redis_url, rounds, bare_fleet.connected()
                    ),
                ],
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
    f_core, u_core = median([per_core(r) for r in floor_runs]), median([per_core(r) for r in per_user_runs])
    floor_lost = sum(expected - int(r["total"]) for r in floor_runs)
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
        Result(
            "broadcast",
            f"per core, bare servers with one PUBLISH per user's message{label}",
            u_core,
            "msgs/core-s",
            baseline=b_core,
            note="the bare servers addressing each socket on its own, as every product event is",
        ),
        Result(
            "broadcast",
            f"per core, the Channels floor (minimal consumer, same layer){label}",
            f_core,
            "msgs/core-s",
            baseline=b_core,
            note=f"bench.loadgen.channels_floor under daphne; frames missing {floor_lost}; "
            f"the gateway delivers {s_core / max(f_core, 1e-9):.2f}× the floor's rate per core",
        ),
    ]
