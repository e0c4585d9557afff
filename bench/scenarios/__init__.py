"""The scenario registry: name → module with run(quick, world) -> list[Result]."""

from __future__ import annotations

import importlib
from typing import Any

NAMES = [
    "receipts",
    "class_notice",
    "request_overhead",
    "mass_text",
    "push",
    "district_notice",
    "broadcast",
    "checkin_burst",
    "idle_capacity",
    "reconnect_storm",
    "soak",
]


def load(name: str) -> Any:
    return importlib.import_module(f"bench.scenarios.{name}")
