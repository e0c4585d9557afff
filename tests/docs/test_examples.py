"""The quickstart examples parse, and the pages point at them. (`make docs-examples`
runs them against a live server.)"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "mobile_api_docs"


def test_python_example_is_valid_python_using_only_stdlib_and_websockets():
    tree = ast.parse((DOCS / "examples/quickstart.py").read_text(encoding="utf-8"))

    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }

    assert (
        imported - {"__future__", "asyncio", "json", "sys", "urllib", "uuid", "typing", "websockets"} == set()
    )


def test_shell_example_is_valid_bash():
    result = subprocess.run(
        ["bash", "-n", str(DOCS / "examples/quickstart.sh")], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr


def test_quickstarts_cover_every_step_in_both_languages():
    for page in ("quickstart.zh.md", "quickstart.en.md"):
        text = (DOCS / page).read_text(encoding="utf-8")
        for needle in (
            "/auth/token/",
            "/auth/token/refresh/",
            "auth/token/sms/",
            "/ws/v1/events/",
            '"type": "resume"',
            "notice.created",
            "/confirm/",
            "/devices/",
            "/files/",
            '{"error": {"code"',
            "Retry-After",
            "examples/quickstart.sh",
            "examples/quickstart.py",
        ):
            assert needle in text, (page, needle)
