"""Harness pieces for the socket scenarios: fleets of client processes, tokens for many
users, /proc readings of server processes, Redis client counts, Celery workers, and the
100,000-guardian school with app devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from bench.world import ROOT, bench_env

CLIENTS_PER_PROCESS = 2500
TICKS = os.sysconf("SC_CLK_TCK")


class Fleet:
    """Socket clients split over several `bench.loadgen.ws_fleet` processes."""

    def __init__(
        self,
        mode: str,
        urls: list[str],
        tokens: list[str | None],
        *,
        per_process: int = CLIENTS_PER_PROCESS,
        extra: list[str] | None = None,
    ) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        self.sizes: list[int] = []
        files: list[str] = []
        for start in range(0, len(tokens), per_process):
            part = tokens[start : start + per_process]
            fd, path = tempfile.mkstemp(suffix=".json", prefix="bench-tokens-")
            with os.fdopen(fd, "w") as f:
                json.dump(part, f)
            files.append(path)
            cmd = [sys.executable, "-m", "bench.loadgen.ws_fleet", "--mode", mode, "--urls", *urls]
            cmd += ["--tokens-file", path, "--first", str(start), *(extra or [])]
            self.procs.append(
                subprocess.Popen(
                    cmd, cwd=ROOT, env=bench_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
                )
            )
            self.sizes.append(len(part))
        try:
            self.ready = self._read_all("READY")
        finally:
            for path in files:  # read at start-up; access tokens do not linger in /tmp
                os.unlink(path)

    def _read_all(self, tag: str) -> list[dict[str, Any]]:
        out = []
        for p in self.procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            if not line.startswith(tag + " "):
                self.stop()
                raise RuntimeError(f"socket fleet: expected {tag}, got {line[:200]!r}")
            out.append(json.loads(line[len(tag) + 1 :]))
        return out

    def command(self, command: str, tag: str) -> list[dict[str, Any]]:
        for p in self.procs:
            assert p.stdin is not None
            p.stdin.write(command + "\n")
            p.stdin.flush()
        return self._read_all(tag)

    def connected(self) -> int:
        return sum(int(r["connected"]) for r in self.ready)

    def connect_latencies(self, rows: list[dict[str, Any]] | None = None) -> list[float]:
        return [x for r in (rows or self.ready) for x in r["latencies"]]

    def end(self) -> list[dict[str, Any]]:
        out = self.command("END", "RESULT")
        self.stop()
        return out

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.communicate(input="END\n", timeout=20)
                except (subprocess.TimeoutExpired, ValueError, OSError):
                    p.kill()
                    p.wait()

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def merged_times(stats: list[dict[str, Any]]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for s in stats:
        for key, values in s["times"].items():
            times.setdefault(key, []).extend(values)
    return times


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def cpu_of(pids: list[int], seconds: float) -> float:
    """CPU used by `pids` over the next `seconds`, in cores (1.0 = one core busy)."""
    before = sum(cpu_seconds(p) for p in pids)
    time.sleep(seconds)
    return (sum(cpu_seconds(p) for p in pids) - before) / seconds


def redis_clients(url: str) -> int:
    """Clients connected to Redis on the bench's database number (other users of the same
    server, on other databases, are not counted), not counting this one."""
    import redis

    client = redis.Redis.from_url(url)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    rows = client.client_list()
    me = client.client_id()
    client.close()
    return sum(1 for r in rows if int(r.get("db", -1)) == db and int(r["id"]) != me)


def tokens_for(user_ids: list[int]) -> list[str | None]:
    """Access tokens for many users (what the app holds after login)."""
    from rest_framework_simplejwt.tokens import AccessToken

    from backend.accounts.models import User

    users = User.objects.in_bulk(user_ids)
    return [str(AccessToken.for_user(users[uid])) for uid in user_ids]


def celery_cmd(name: str, concurrency: int = 1) -> list[str]:
    return [
        str(ROOT / ".venv" / "bin" / "celery"),
        "-A",
        "backend",
        "worker",
        "-n",
        f"{name}@bench",
        "-P",
        "solo" if concurrency == 1 else "threads",
        "-c",
        str(concurrency),
        "-l",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def purge_broker() -> None:
    """Drop tasks nobody consumed (earlier scenarios queue them and run no workers)."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(str(settings.CELERY_BROKER_URL)).delete("celery")


def wait_until(check: Any, timeout: float, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return bool(check())


def mass_school() -> dict[str, Any]:
    """The 100,000-guardian school of mass_text (seeded there with set-based SQL), plus
    an app login and one Android device per guardian, (re)written set-based: devices
    deleted by an earlier run (UNREGISTERED) are put back."""
    from django.db import connection, transaction

    from backend.schools.models import SchoolClass
    from bench.scenarios import mass_text

    school_id, _account_id, admin_id = mass_text._seed()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "UPDATE accounts_user SET first_app_login_at = now() WHERE phone LIKE '139%%'"
            " AND first_app_login_at IS NULL"
        )
        cur.execute(
            "INSERT INTO accounts_device (user_id, platform, token, created_at, last_seen_at)"
            " SELECT u.id, 'android', 'bench-device-' || u.id, now(), now() FROM accounts_user u"
            " WHERE u.phone LIKE '139%%'"
            " AND NOT EXISTS (SELECT 1 FROM accounts_device d WHERE d.user_id = u.id)"
        )
    class_ids = list(
        SchoolClass.objects.filter(school_id=school_id).order_by("id").values_list("id", flat=True)
    )
    return {"school_id": school_id, "admin_id": admin_id, "class_ids": class_ids}


def mass_guardians(n: int, class_ids: list[int] | None = None) -> list[int]:
    """The first n guardians (by id) of the mass school, optionally of some classes only."""
    from backend.accounts.models import User

    qs = User.objects.filter(phone__startswith="139")
    if class_ids is not None:
        qs = qs.filter(guardianships__student__class_memberships__school_class_id__in=class_ids).distinct()
    return list(qs.order_by("id").values_list("id", flat=True)[:n])


_T0 = time.monotonic()


def log(message: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f"   [{time.monotonic() - _T0:6.1f} s] {message}", file=sys.stderr, flush=True)
