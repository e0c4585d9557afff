"""Soak: 1,000 idle authenticated sockets (quick: 200) on 2 daphne processes while events
arrive at 50/s, each for one user, written and published through the product
(`send_event_on_commit`, one transaction each). 5 minutes under `make soak`
(BENCH_SOAK_SECONDS=300), 30 s in `make bench` (6 s in the quick run), to keep it ≤ 10 min. Measured: errors
(sockets closed by the server, seq gaps, events never delivered), commit → socket p95,
and the ASGI processes' RSS at start and end, with the slope of a line fitted to a
sample every 5 s.

Baseline: 2 bare `websockets` servers fed by Redis PUBLISH at the same rate, each message
to one socket (as each event goes to one user), for a third
of the time (min 10 s), the same sockets; its latency is PUBLISH → socket."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from bench.core import Result, daphne_cmd, free_port, percentile, processes
from bench.fleet import Fleet, log, mass_guardians, mass_school, merged_times, rss_kib, tokens_for

RATE = 50.0
SAMPLE_EVERY = 5.0


def _slope(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, KiB) in KiB per minute."""
    if len(samples) < 2:
        return float("nan")
    n = len(samples)
    mx = sum(t for t, _ in samples) / n
    my = sum(v for _, v in samples) / n
    den = sum((t - mx) ** 2 for t, _ in samples)
    return 60 * sum((t - mx) * (v - my) for t, v in samples) / den if den else float("nan")


def _paced(seconds: float, send: Any, pids: list[int]) -> tuple[dict[str, float], list[tuple[float, float]]]:
    sent: dict[str, float] = {}
    samples: list[tuple[float, float]] = []
    t0 = time.monotonic()
    next_sample = t0
    k = 0
    while time.monotonic() - t0 < seconds:
        now = time.monotonic()
        if pids and now >= next_sample:
            samples.append((now - t0, float(sum(rss_kib(p) for p in pids))))
            next_sample += SAMPLE_EVERY
        delay = t0 + k / RATE - now
        if delay > 0:
            time.sleep(delay)
        key, t = send(k)
        sent[key] = t
        k += 1
    if pids:
        samples.append((time.monotonic() - t0, float(sum(rss_kib(p) for p in pids))))
    return sent, samples


def _drain(fleet: Fleet, expected: int, timeout: float = 15) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        stats = fleet.command("STATS", "STATS")
        if sum(int(s["total"]) for s in stats) >= expected or time.monotonic() > deadline:
            return stats
        time.sleep(0.2)


def _latencies(sent: dict[str, float], stats: list[dict[str, Any]]) -> tuple[list[float], int]:
    times = merged_times(stats)
    lat = [times[key][0] - t for key, t in sent.items() if key in times]
    return lat, sum(1 for key in sent if key not in times)


def run(quick: bool, world: Any) -> list[Result]:
    import redis
    from django.conf import settings
    from django.db import transaction

    from backend.notices.events import NOTICE_CREATED
    from backend.realtime.services import send_event_on_commit

    mass_school()
    sockets = 200 if quick else 1_000
    seconds = 6.0 if quick else float(os.environ.get("BENCH_SOAK_SECONDS", "30"))
    user_ids = mass_guardians(sockets)
    tokens = tokens_for(user_ids)
    redis_url = str(settings.REDIS_URL)
    marker = 800_000_000 + int(time.time()) % 1_000_000 * 100

    stack_ports, bare_ports = [free_port(), free_port()], [free_port(), free_port()]
    bare_cmds = [
        [sys.executable, "-m", "bench.loadgen.bare_ws", "--port", str(p), "--redis", redis_url]
        for p in bare_ports
    ]
    r = redis.Redis.from_url(redis_url)

    def bare_send(k: int) -> tuple[str, float]:
        # To one socket, as the stack sends each event to one user.
        t = time.time()
        r.publish("bench-bare-to", f"/c{k % sockets}\n" + json.dumps({"type": "notice.created", "k": k}))
        return str(k), t

    bare_urls = [f"ws://127.0.0.1:{p}/" for p in bare_ports]
    with processes(bare_cmds, bare_ports), Fleet("bare", bare_urls, [None] * sockets) as fleet:
        bare_sent, _ = _paced(max(10.0, seconds / 3), bare_send, [])
        bare_lat, _ = _latencies(bare_sent, _drain(fleet, len(bare_sent)))

    def stack_send(k: int) -> tuple[str, float]:
        t = time.time()
        with transaction.atomic():
            send_event_on_commit([user_ids[k % len(user_ids)]], NOTICE_CREATED, {"notice_id": marker + k})
        return str(marker + k), t

    with processes([daphne_cmd(p) for p in stack_ports], stack_ports) as procs:
        pids = [p.pid for p in procs]
        urls = [f"ws://127.0.0.1:{p}/ws/v1/events/" for p in stack_ports]
        with Fleet("stack", urls, tokens, extra=["--ping", "30"]) as fleet:
            log(f"soak: {fleet.connected():,} connected, {seconds:g} s at {RATE:g}/s")
            sent, samples = _paced(seconds, stack_send, pids)
            stats = _drain(fleet, len(sent))
            lat, missing = _latencies(sent, stats)
            connected = fleet.connected()
    errors = sum(int(s["error_count"]) + int(s["gaps"]) for s in stats) + missing + (sockets - connected)
    p95 = percentile(lat, 95)
    slope = _slope(samples)
    start_rss, end_rss = samples[0][1], samples[-1][1]
    label = f" ({seconds:g} s, {sockets:,} sockets)"
    samples_err = [e for s in stats for e in s["errors"]][:2]
    return [
        Result(
            "soak",
            f"errors{label}",
            float(errors),
            "errors",
            target="0",
            met=errors == 0,
            note=f"{len(sent):,} events; undelivered {missing}, socket errors/gaps {errors - missing}"
            + (f": {samples_err}" if samples_err else ""),
        ),
        Result(
            "soak",
            f"commit → socket p95 (ms){label}",
            p95 * 1000,
            "ms",
            baseline=percentile(bare_lat, 95) * 1000,
            target="< 1,000 ms",
            met=p95 < 1.0,
            note=f"p50 {percentile(lat, 50) * 1000:.0f} ms, p99 {percentile(lat, 99) * 1000:.0f} ms; "
            f"baseline over {max(10.0, seconds / 3):g} s",
        ),
        Result(
            "soak",
            f"ASGI RSS slope (KiB/min){label}",
            slope,
            "KiB/min",
            target="flat: end ≤ start + 5 %",
            met=end_rss <= start_rss * 1.05,
            note=f"RSS of the 2 processes {start_rss / 1024:.1f} MiB at start, {end_rss / 1024:.1f} MiB at end "
            f"({len(samples)} samples)",
        ),
    ]
