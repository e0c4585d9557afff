"""The dependency audit where pip-audit cannot run: PyPI's project feed.

pip-audit asks PyPI for each pinned release (`/pypi/<name>/<version>/json`) or asks OSV.
Some networks (this machine kind's proxy among them) answer only the project feed,
`/pypi/<name>/json`. That feed carries PyPI's advisories (the same OSV data pip-audit
reads) for the project's *latest* release. So for every pin that is the latest release
the answer is authoritative; for the others nothing can be said here, and they are named.

    python -m tools.audit_latest [constraints.txt]

Exit status: 1 when a pinned release has a known vulnerability or a project could not
be asked; 0 otherwise. Pins that are not the latest release are printed as NOT AUDITED
(they do not fail the run: `make audit` is the full audit, run where PyPI answers)."""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

FEED = "https://pypi.org/pypi/{name}/json"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")

Fetch = Callable[[str], dict[str, Any]]


@dataclass
class Report:
    audited: list[tuple[str, str]] = field(default_factory=list)
    vulnerable: list[tuple[str, str, list[str]]] = field(default_factory=list)
    not_latest: list[tuple[str, str, str]] = field(default_factory=list)
    unreachable: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.vulnerable or self.unreachable)


def pins(lines: Iterable[str]) -> list[tuple[str, str]]:
    found = []
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def fetch_feed(name: str) -> dict[str, Any]:
    with urllib.request.urlopen(FEED.format(name=canonicalize_name(name)), timeout=30) as response:  # noqa: S310 - fixed https URL
        data: dict[str, Any] = json.load(response)
    return data


def _same(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def audit(pinned: list[tuple[str, str]], fetch: Fetch = fetch_feed) -> Report:
    report = Report()

    def ask(pin: tuple[str, str]) -> tuple[tuple[str, str], dict[str, Any] | None, str]:
        try:
            return pin, fetch(pin[0]), ""
        except Exception as exc:  # noqa: BLE001 - any failure to ask is reported, never skipped
            return pin, None, f"{type(exc).__name__}: {exc}"[:120]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, pinned))
    for (name, version), data, error in answers:
        if data is None:
            report.unreachable.append((name, version, error))
            continue
        latest = str(data.get("info", {}).get("version", ""))
        if not _same(version, latest):
            report.not_latest.append((name, version, latest))
            continue
        advisories = [
            str(v.get("id", "?")) for v in data.get("vulnerabilities", []) or [] if not v.get("withdrawn")
        ]
        if advisories:
            report.vulnerable.append((name, version, advisories))
        else:
            report.audited.append((name, version))
    return report


def main(argv: list[str] | None = None, fetch: Fetch = fetch_feed) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "constraints.txt")
    pinned = pins(path.read_text().splitlines())
    report = audit(pinned, fetch)
    print(
        f"{len(report.audited)} of {len(pinned)} pins audited against PyPI's advisories "
        f"(pins that are their project's latest release)"
    )
    for name, version, ids in report.vulnerable:
        print(f"VULNERABLE: {name} {version}: {', '.join(ids)}")
    for name, version, error in report.unreachable:
        print(f"NOT ASKED: {name} {version}: {error}")
    for name, version, latest in report.not_latest:
        print(
            f"!! NOT AUDITED: {name} {version} (PyPI's latest is {latest}; its advisories need 'make audit')"
        )
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
