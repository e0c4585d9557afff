"""tools/audit_latest: the audit from PyPI's project feed, where pip-audit cannot ask."""

from __future__ import annotations

from typing import Any

import pytest

from tools.audit_latest import audit, main, pins


def feed(latest: str, vulnerabilities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"info": {"version": latest}, "vulnerabilities": vulnerabilities or []}


FEEDS = {
    "clean": feed("1.2.0"),
    "old": feed("2.0.0", [{"id": "PYSEC-2099-1"}]),
    "bad": feed("3.1", [{"id": "GHSA-xxxx-yyyy-zzzz"}, {"id": "PYSEC-2099-2", "withdrawn": "2099-01-01"}]),
}


def fetch(name: str) -> dict[str, Any]:
    if name == "offline":
        raise OSError("no route")
    return FEEDS[name]


def test_pins_reads_exact_pins_only():
    lines = ["# comment", "clean==1.2.0", "Old_Pkg==2.0.0 ; python_version >= '3'", "loose>=1", "", "-e ."]
    assert pins(lines) == [("clean", "1.2.0"), ("Old_Pkg", "2.0.0")]


def test_latest_pins_are_audited_older_ones_named_not_audited():
    report = audit([("clean", "1.2"), ("old", "1.9.0")], fetch)
    assert report.audited == [("clean", "1.2")]  # 1.2 == 1.2.0 as versions
    assert report.not_latest == [("old", "1.9.0", "2.0.0")]  # its advisories are the latest's, not 1.9.0's
    assert report.vulnerable == []
    assert not report.failed


def test_a_known_vulnerability_fails_and_withdrawn_ones_do_not_count():
    report = audit([("bad", "3.1")], fetch)
    assert report.vulnerable == [("bad", "3.1", ["GHSA-xxxx-yyyy-zzzz"])]
    assert report.failed


def test_a_project_that_cannot_be_asked_fails_instead_of_passing():
    report = audit([("clean", "1.2.0"), ("offline", "1.0")], fetch)
    assert [(n, v) for n, v, _ in report.unreachable] == [("offline", "1.0")]
    assert report.failed


def test_main_prints_the_pins_it_could_not_audit(tmp_path, capsys):
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("clean==1.2.0\nold==1.9.0\n")
    assert main([str(constraints)], fetch) == 0
    out = capsys.readouterr().out
    assert "1 of 2 pins audited" in out
    assert "!! NOT AUDITED: old 1.9.0 (PyPI's latest is 2.0.0" in out


@pytest.mark.parametrize("text", ["bad==3.1\n", "offline==1.0\n"])
def test_main_fails_on_a_vulnerability_or_an_unanswered_project(tmp_path, text):
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(text)
    assert main([str(constraints)], fetch) == 1
