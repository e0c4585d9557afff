"""Production opens PostgreSQL through a per-process connection pool (psycopg_pool):
under ASGI every request runs in its own thread context, and without a pool each one
forked a new PostgreSQL backend. Runs production settings in a subprocess against the
PostgreSQL of this run (the settings raise at import without their secrets)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres

PROBE = """
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
pool = connection.pool
if pool is None:
    print("no-pool", connection.settings_dict["CONN_MAX_AGE"])
else:
    print(type(pool).__name__, pool.min_size, pool.max_size, connection.settings_dict["CONN_MAX_AGE"])
    connection.close()  # what the end of a request does: back to the pool, still open
    print(pool.get_stats()["pool_available"] >= 1)
"""


@pytest.fixture
def database_url(db: object) -> str:
    from django.db import connection

    s = connection.settings_dict  # the test database of this run
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _production(database_url: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "backend.settings.production",
        "SECRET_KEY": "x" * 64,
        "ALLOWED_HOSTS": "jiaxiao.example.cn",
        "DATABASE_URL": database_url,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SMS_CALLBACK_TOKEN": "t" * 24,
        "DB_CONN_MAX_AGE": "60",  # ignored with the pool: a connection goes back after each request
        **extra,
    }
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_connects_through_a_bounded_pool_and_returns_connections(database_url: str) -> None:
    result = _production(database_url, DB_POOL_MAX_SIZE="8")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ConnectionPool", "2", "8", "0", "True"]


def test_the_pool_can_be_switched_off_for_an_external_pooler(database_url: str) -> None:
    result = _production(database_url, DB_POOL="0")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["no-pool", "60"]
