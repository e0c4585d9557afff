"""Harness pieces shared by the scenarios: results, medians, alternation, processes."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.world import ROOT, bench_env


@dataclass
class Result:
    scenario: str
    metric: str
    value: float
    unit: str
    baseline: float | None = None
    target: str = ""
    met: bool | None = None
    load: tuple[float, float, float] = field(default_factory=lambda: os.getloadavg())
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline  # type: ignore[operator]

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Result:
        names = set(cls.__dataclass_fields__)
        data = {k: v for k, v in row.items() if k in names}
        data["load"] = tuple(data.get("load") or (0.0, 0.0, 0.0))
        return cls(**data)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = None if self.ratio is None else round(self.ratio, 3)
        data["load"] = [round(x, 2) for x in self.load]
        return data


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def alternate(
    repeats: int, baseline: Callable[[], Any], stack: Callable[[], Any]
) -> tuple[list[Any], list[Any]]:
    """Run baseline and stack alternately (B S S B B S …) so drift in machine load hits
    both sides alike."""
    base_runs: list[Any] = []
    stack_runs: list[Any] = []
    for i in range(repeats):
        order = (baseline, stack) if i % 2 == 0 else (stack, baseline)
        for fn in order:
            (base_runs if fn is baseline else stack_runs).append(fn())
    return base_runs, stack_runs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@contextmanager
def processes(
    commands: list[list[str]], ports: list[int] | None = None, **env: str
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start server processes (own process groups), wait for their ports, stop them after."""
    procs = [
        subprocess.Popen(
            cmd, cwd=ROOT, env=bench_env(**env), start_new_session=True, stdout=subprocess.DEVNULL
        )
        for cmd in commands
    ]
    try:
        for port in ports or []:
            wait_port(port)
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def daphne_cmd(port: int, app: str = "backend.asgi:application") -> list[str]:
    if os.environ.get("BENCH_ASGI_SERVER") == "uvicorn":
        # Experiment (not a dependency of the project: `pip install "uvicorn[standard]"`
        # first): the same app under uvicorn (uvloop, httptools, websockets), pinging
        # every 40 s like daphne --ping-interval 40.
        return [
            str(ROOT / ".venv" / "bin" / "uvicorn"),
            "--no-access-log",
            "--log-level",
            "warning",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ws-ping-interval",
            "40",
            "--ws-per-message-deflate",
            "false",
            app,
        ]
    return [
        str(ROOT / ".venv" / "bin" / "daphne"),
        "-v",
        "0",
        "--access-log",
        os.devnull,
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "--ping-interval",  # as README's production command
        "40",
        app,
    ]
