"""Hygiene (issue #12 item 11): `manage.py check --deploy` is clean with the production
settings and DEBUG can never be turned on there. Each case runs Django in a subprocess
with a production-like environment (the settings module raises at import time without
its secrets, so it cannot be loaded into the test process). The dependency audit is
`make audit` (pip-audit over constraints.txt), not a test: it needs the advisory feed."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def production_env(**extra: str) -> dict[str, str]:
    """Only what a deployment sets: the secrets production.py requires, nothing from the
    test run (its DJANGO_SETTINGS_MODULE, DATABASE_URL…)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "backend.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "jiaxiao.example.cn",
        "DATABASE_URL": "postgres://jiaxiao@db.internal:5432/jiaxiao",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "SMS_CALLBACK_TOKEN": secrets.token_urlsafe(24),
    }
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def settings_values(names: list[str], env: dict[str, str]) -> dict[str, str]:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"print(*(repr(getattr(settings, n)) for n in {names!r}))"
    )
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return dict(zip(names, result.stdout.split(), strict=True))


def test_check_deploy_is_clean_in_production_settings() -> None:
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_would_catch_debug_on(tmp_path: Path) -> None:
    """The check above is not vacuous: the same settings with DEBUG forced on fail it."""
    (tmp_path / "debug_production.py").write_text("from backend.settings.production import *\nDEBUG = True\n")
    env = production_env(DJANGO_SETTINGS_MODULE="debug_production", PYTHONPATH=str(tmp_path))
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)

    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout  # "You should not have DEBUG set to True"


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"DEBUG": "1"},
        {"DEBUG": "True", "DJANGO_DEBUG": "true", "DEBUG_PROPAGATE_EXCEPTIONS": "1"},
    ],
    ids=["default", "DEBUG=1", "DEBUG=True"],
)
def test_debug_cannot_be_turned_on_in_production(variables: dict[str, str]) -> None:
    seen = settings_values(["DEBUG", "DEBUG_PROPAGATE_EXCEPTIONS"], production_env(**variables))

    assert seen == {"DEBUG": "False", "DEBUG_PROPAGATE_EXCEPTIONS": "False"}


def test_production_refuses_to_start_without_its_secrets() -> None:
    env = production_env()
    del env["SECRET_KEY"]
    result = run(["manage.py", "check"], env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr
