"""Idle capacity: authenticated sockets that only ping every 30 s (the app in the
background), spread over 2 daphne processes. Measured from /proc: the ASGI processes'
RSS per socket once 10,000 are connected (quick: 1,000), and their CPU while 5,000
(quick: 500) sit idle. Baseline: 2 bare `websockets` servers holding the same sockets
(WebSocket-level pings at the same interval)."""

from __future__ import annotations

import sys
import time
from typing import Any

from bench.core import Result, daphne_cmd, free_port, median, processes
from bench.fleet import Fleet, cpu_of, log, mass_guardians, mass_school, rss_kib, tokens_for

PING = 30.0


def _measure(
    mode: str, pids: list[int], urls: list[str], tokens: list[str | None], window: float
) -> dict[str, Any]:
    half = len(tokens) // 2
    extra = ["--ping", str(PING)]
    with Fleet(mode, urls, tokens[:20], extra=extra):  # warm up: imports, pools
        pass
    time.sleep(1)
    base = sum(rss_kib(p) for p in pids)
    log(f"{mode}: warmed up, connecting {half:,}")
    with Fleet(mode, urls, tokens[:half], extra=extra) as first:
        log(f"{mode}: {first.connected():,} connected")
        time.sleep(2)
        # Three sub-windows, median: one slow moment (another process) does not decide it.
        cpu = median([cpu_of(pids, window / 3) for _ in range(3)])
        with Fleet(mode, urls, tokens[half:], extra=extra) as second:
            log(f"{mode}: {first.connected() + second.connected():,} connected")
            time.sleep(2)
            rss = sum(rss_kib(p) for p in pids)
            connected = first.connected() + second.connected()
            errors = [e for r in first.end() + second.end() for e in r["errors"]]
    log(f"{mode}: closed")
    return {
        "per_socket_kib": (rss - base) / max(1, connected),
        "cpu": cpu,
        "connected": connected,
        "half": first.connected(),
        "errors": errors,
        "base_kib": base,
    }


def run(quick: bool, world: Any) -> list[Result]:
    from django.conf import settings

    mass_school()
    total = 1_000 if quick else 10_000
    window = 4.5 if quick else 15.0
    tokens = tokens_for(mass_guardians(total))
    redis_url = str(settings.REDIS_URL)
    stack_ports = [free_port(), free_port()]
    bare_ports = [free_port(), free_port()]
    bare_cmds = [
        [sys.executable, "-m", "bench.loadgen.bare_ws", "--port", str(p), "--redis", redis_url]
        for p in bare_ports
    ]
    with processes(bare_cmds, bare_ports) as procs:
        bare = _measure(
            "bare", [p.pid for p in procs], [f"ws://127.0.0.1:{p}/" for p in bare_ports], tokens, window
        )
    with processes([daphne_cmd(p) for p in stack_ports], stack_ports) as procs:
        stack = _measure(
            "stack",
            [p.pid for p in procs],
            [f"ws://127.0.0.1:{p}/ws/v1/events/" for p in stack_ports],
            tokens,
            window,
        )
    label = "" if not quick else " (quick: scaled down)"
    note = (
        f"{stack['connected']:,} of {total:,} connected (bare {bare['connected']:,}); pings every {PING:g} s; "
        f"RSS before sockets {stack['base_kib'] / 1024:.0f} MiB (bare {bare['base_kib'] / 1024:.0f} MiB)"
    )
    if stack["errors"]:
        note += f"; errors: {stack['errors'][:2]}"
    return [
        Result(
            "idle_capacity",
            f"RSS per socket at {total:,} sockets, 2 ASGI processes (KiB){label}",
            stack["per_socket_kib"],
            "KiB",
            baseline=bare["per_socket_kib"],
            target="≤ 100 KiB",
            met=stack["per_socket_kib"] <= 100 and stack["connected"] == total,
            note=note,
        ),
        Result(
            "idle_capacity",
            f"CPU at {total // 2:,} idle sockets (% of one core){label}",
            stack["cpu"] * 100,
            "%",
            baseline=bare["cpu"] * 100,
            target="≤ 10 %",
            met=stack["cpu"] <= 0.10 and stack["half"] == total // 2,
            note=f"median of 3 windows of {window / 3:g} s, both processes summed",
        ),
    ]
