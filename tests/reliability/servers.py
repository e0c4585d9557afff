"""Processes the fault tests start and kill themselves: a private redis-server (never the
shared one on 6379) and Celery workers. Each is stopped by its own Popen handle."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str | Callable[[], str], interval: float = 0.02
) -> None:
    """Poll `condition` until it holds; fail the test naming `what` (a callable is asked
    at the failure, e.g. for a worker's log) after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what() if callable(what) else what}")
        time.sleep(interval)


def require_redis_server() -> None:
    if shutil.which("redis-server") is None:
        # CI machines have it: there a missing server is a failure, never a silent skip.
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed, and CI needs the Redis fault tests")
        pytest.skip("redis-server is not installed")


class PrivateRedis:
    """redis-server on a free loopback port in a temp dir, no persistence."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="reliability-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, our own binary lookup
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.starts += 1
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("private redis-server did not start")

    def kill(self) -> None:
        """SIGKILL our own process only (by its Popen handle)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(5)
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


class CeleryWorker:
    """`celery worker` as a child process (solo pool, one task at a time), with the
    environment given; its log is kept for failure messages."""

    def __init__(self, env: Mapping[str, str], name: str) -> None:
        self.log = Path(tempfile.mkstemp(prefix=f"reliability-{name}-", suffix=".log")[1])
        self.name = name
        self.env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> CeleryWorker:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "celery", "-A", "backend", "worker", "--pool", "solo",
                 "--concurrency", "1", "--prefetch-multiplier", "1", "--without-heartbeat",
                 "--without-gossip", "--without-mingle", "-n", f"{self.name}@%h", "--loglevel", "INFO"],
                cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        return self

    def ready(self) -> bool:
        return "ready." in self.log.read_text(errors="replace")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no acks, exactly as an OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.log.unlink(missing_ok=True)


class Daphne:
    """The ASGI app served by daphne as a child process on a free port."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.port = free_port()
        self.log = Path(tempfile.mkstemp(prefix="reliability-daphne-", suffix=".log")[1])
        self.env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/v1/events/"

    def start(self) -> Daphne:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                 "backend.asgi:application"],
                cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_until(self._listening, 60, lambda: f"daphne to listen:\n{self.output()}", interval=0.1)
        return self

    def _listening(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"daphne exited:\n{self.output()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.unlink(missing_ok=True)
