"""Class notice to sockets: 2 daphne processes, 50 authenticated sockets (the class's
guardians) in one client process; the teacher POSTs notices at 5/s (60 s full, 6 s
quick). Latency = POST sent → the notice.created frame on the last of the 50 sockets;
every socket must get every notice with gap-free seq.

Baseline: 2 bare asyncio `websockets` servers (compression off) fed by Redis PUBLISH,
the same 50 clients, a payload of the same size published at the same rate (20 s in all,
quick 3 s)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis

from bench.core import Result, daphne_cmd, free_port, percentile, processes
from bench.world import ROOT, access_token, bench_env

RATE = 5.0
CLIENTS = 50


def _start_clients(
    mode: str, urls: list[str], tokens: list[str] | None, seconds: float
) -> subprocess.Popen[str]:
    cmd = [
        sys.executable,
        "-m",
        "bench.loadgen.ws_clients",
        "--mode",
        mode,
        "--urls",
        *urls,
        "--clients",
        str(CLIENTS),
        "--seconds",
        str(seconds),
    ]
    if tokens:
        fd, path = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(tokens, f)
        cmd += ["--tokens-file", path]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=bench_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.kill()
        raise RuntimeError(f"socket clients did not start: {line!r}")
    return proc


def _finish_clients(proc: subprocess.Popen[str], expected: int) -> dict[str, Any]:
    out, _ = proc.communicate(input=f"EXPECT {expected}\n", timeout=90)
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError("socket clients printed no result")


def _paced(n: int, send: Any) -> list[tuple[Any, float]]:
    """Call send(k) at RATE per second (open loop: slow answers do not slow the pace)."""
    sent: list[tuple[Any, float]] = []
    lock = threading.Lock()

    def one(k: int) -> None:
        t = time.time()
        key = send(k)
        with lock:
            sent.append((key, t))

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for k in range(n):
            delay = t0 + k / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, k)
    return sent


def _measure(sent: list[tuple[Any, float]], received: list[list[Any]]) -> tuple[list[float], int]:
    last: dict[Any, float] = {}
    counts: dict[Any, int] = {}
    for key, _client, t in received:
        last[key] = max(last.get(key, 0.0), t)
        counts[key] = counts.get(key, 0) + 1
    latencies = [last[key] - t for key, t in sent if key in last]
    lost = sum(CLIENTS - min(CLIENTS, counts.get(key, 0)) for key, _ in sent)
    return latencies, lost


def _stack_run(ports: list[int], tokens: list[str], teacher: str, class_id: int, n: int) -> dict[str, Any]:
    proc = _start_clients(
        "stack", [f"ws://127.0.0.1:{p}/ws/v1/events/" for p in ports], tokens, n / RATE + 60
    )
    local = threading.local()
    errors: list[str] = []
    answered: list[float] = []

    def post(k: int) -> Any:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", ports[k % len(ports)], timeout=30)
        body = json.dumps(
            {
                "title": f"班级通知 {k}",
                "body": "请家长今晚检查孩子的数学作业并签字。",
                "class_ids": [class_id],
                "audience": "guardians",
                "sms_fallback": False,
            }
        )
        t = time.time()
        conn.request(
            "POST",
            "/api/v1/notices/",
            body,
            {"Authorization": f"Bearer {teacher}", "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        data = resp.read()
        answered.append(time.time() - t)
        if resp.status != 201:
            errors.append(f"{resp.status} {data[:200]!r}")
            return None
        return json.loads(data)["id"]

    sent = _paced(n, post)
    out = _finish_clients(proc, CLIENTS * sum(1 for key, _ in sent if key is not None))
    latencies, lost = _measure([s for s in sent if s[0] is not None], out["received"])
    return {
        "latencies": latencies,
        "lost": lost + len(errors) * CLIENTS,
        "gaps": len(out["gaps"]),
        "answered": answered,
        "errors": errors[:3] + out["errors"][:3],
    }


def _bare_run(ports: list[int], redis_url: str, n: int) -> dict[str, Any]:
    proc = _start_clients("bare", [f"ws://127.0.0.1:{p}/" for p in ports], None, n / RATE + 60)
    r = redis.Redis.from_url(redis_url)
    pad = "请家长今晚检查孩子的数学作业并签字。" * 4

    def publish(k: int) -> Any:
        frame = {
            "type": "notice.created",
            "seq": k,
            "ts": time.time(),
            "notice_id": k,
            "data": {"notice_id": k, "title": f"班级通知 {k}", "urgent": False, "target": pad},
        }
        r.publish("bench-bare", json.dumps(frame, ensure_ascii=False))
        return k

    sent = _paced(n, publish)
    out = _finish_clients(proc, CLIENTS * len(sent))
    latencies, lost = _measure(sent, out["received"])
    return {"latencies": latencies, "lost": lost, "gaps": 0, "errors": out["errors"][:3]}


def run(quick: bool, world: Any) -> list[Result]:
    from django.conf import settings

    class_id = world.class_ids[0]
    guardians = world.guardian_ids_by_class[class_id][:CLIENTS]
    tokens = [access_token(g) for g in guardians]
    teacher = access_token(world.teacher_id)
    redis_url = str(settings.REDIS_URL)
    stack_ports = [free_port(), free_port()]
    bare_ports = [free_port(), free_port()]
    seconds, repeats = (6, 1) if quick else (30, 2)
    n = int(seconds * RATE)
    # The bare server's latencies are flat and tight (p99 within 2 ms of p50 in every run
    # so far): 10 s of it per repeat (quick 3 s) is as good a baseline as 30 s and keeps
    # `make bench` within its 10 minutes. The stack keeps the 60 s at 5/s.
    n_bare = int((3 if quick else 10) * RATE)
    commands = [daphne_cmd(p) for p in stack_ports] + [
        [sys.executable, "-m", "bench.loadgen.bare_ws", "--port", str(p), "--redis", redis_url]
        for p in bare_ports
    ]
    stack: list[dict[str, Any]] = []
    bare: list[dict[str, Any]] = []
    with processes(commands, stack_ports + bare_ports):
        _stack_run(stack_ports, tokens, teacher, class_id, 3)  # warm up both processes
        for i in range(repeats):
            if i % 2 == 0:
                bare.append(_bare_run(bare_ports, redis_url, n_bare))
                stack.append(_stack_run(stack_ports, tokens, teacher, class_id, n))
            else:
                stack.append(_stack_run(stack_ports, tokens, teacher, class_id, n))
                bare.append(_bare_run(bare_ports, redis_url, n_bare))
    s_lat = [x for run_ in stack for x in run_["latencies"]]
    b_lat = [x for run_ in bare for x in run_["latencies"]]
    lost = sum(r["lost"] for r in stack)
    gaps = sum(r["gaps"] for r in stack)
    errors = [e for r in stack + bare for e in r["errors"]]
    note = (
        f"{len(s_lat)} notices × {CLIENTS} sockets, {repeats}×{seconds} s at {RATE:g}/s "
        f"(bare {repeats}×{n_bare / RATE:g} s)"
    )
    if errors:
        note += f"; errors: {errors[:2]}"
    p99 = percentile(s_lat, 99)
    answered = [x for run_ in stack for x in run_["answered"]]
    return [
        Result(
            "class_notice",
            "POST answered p50 (ms)",
            percentile(answered, 50) * 1000,
            "ms",
            note="the 201 itself; the notice is committed and published before it",
        ),
        Result(
            "class_notice",
            "POST → last socket p50 (ms)",
            percentile(s_lat, 50) * 1000,
            "ms",
            baseline=percentile(b_lat, 50) * 1000,
            note=note,
        ),
        Result(
            "class_notice",
            "POST → last socket p99 (ms)",
            p99 * 1000,
            "ms",
            baseline=percentile(b_lat, 99) * 1000,
            target="≤ 100 ms",
            met=p99 <= 0.1,
            note=note,
        ),
        Result(
            "class_notice",
            "frames lost or out of order",
            float(lost + gaps),
            "frames",
            baseline=float(sum(r["lost"] for r in bare)),
            target="0",
            met=lost + gaps == 0,
            note=f"lost {lost}, seq gaps {gaps}",
        ),
    ]
