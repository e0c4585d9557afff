"""Request overhead: GET /api/v1/me/ with a JWT (Django + DRF + middleware + auth +
queries) against a raw ASGI app answering a same-sized JSON body, both under one daphne
process each, driven by the same closed-loop keep-alive load generator process."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench.core import Result, alternate, daphne_cmd, free_port, median, processes
from bench.world import ROOT, access_token, bench_env

CONNECTIONS = 16


def _load(url: str, seconds: float, header: str | None = None) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "bench.loadgen.http_load",
        "--url",
        url,
        "--connections",
        str(CONNECTIONS),
        "--seconds",
        str(seconds),
    ]
    if header:
        cmd += ["--header", header]
    out = subprocess.run(
        cmd, cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    return json.loads(out.stdout)


def run(quick: bool, world: Any) -> list[Result]:
    guardian = world.guardian_ids_by_class[world.class_ids[0]][0]
    auth = f"Authorization: Bearer {access_token(guardian)}"
    stack_port, bare_port = free_port(), free_port()
    seconds, repeats = (2.0, 1) if quick else (6.0, 3)
    with processes(
        [daphne_cmd(stack_port), daphne_cmd(bare_port, "bench.loadgen.bare_asgi:app")],
        [stack_port, bare_port],
    ):
        stack_url = f"http://127.0.0.1:{stack_port}/api/v1/me/"
        bare_url = f"http://127.0.0.1:{bare_port}/"
        _load(stack_url, 1.0, auth)  # warm up
        _load(bare_url, 1.0)
        bare, stack = alternate(
            repeats, lambda: _load(bare_url, seconds), lambda: _load(stack_url, seconds, auth)
        )
    errors = [e for r in stack + bare for e in r["errors"]]
    note = f"1 daphne process each, {CONNECTIONS} keep-alive connections, {repeats}×{seconds:g} s"
    if errors:
        note += f"; errors: {errors[:2]}"
    s_rps, b_rps = median([r["rps"] for r in stack]), median([r["rps"] for r in bare])
    return [
        Result(
            "request_overhead", "GET /me/ requests/s (1 process)", s_rps, "req/s", baseline=b_rps, note=note
        ),
        Result(
            "request_overhead",
            "GET /me/ p99 (ms)",
            median([r["p99_ms"] for r in stack]),
            "ms",
            baseline=median([r["p99_ms"] for r in bare]),
            note=note,
        ),
        Result(
            "request_overhead",
            "per-request cost above bare ASGI (ms CPU-equivalent)",
            1000 / s_rps - 1000 / b_rps,
            "ms",
            note="1/rps(stack) − 1/rps(bare): Django + DRF + JWT + queries per request",
        ),
    ]
