from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sms_gateway.cli import main
from sms_gateway.simulator import DysmsapiSimulator

ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_segments(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["segments", "x" * 67, "--signature", "学校"], capsys) == (
        0,
        {"length": 71, "segments": 2, "signature": "【学校】"},
    )
    code, out = run(["segments", "x" * 501], capsys)
    assert code == 1
    assert (out["error"], out["length"]) == ("message_length", 501)


def test_carrier(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(["carrier", "+86 192 1234 5678"], capsys)
    assert code == 0
    assert (out["phone"], out["carrier"], out["carrier_name"]) == ("19212345678", "broadnet", "中国广电")
    code, out = run(["carrier", "12345"], capsys)
    assert (code, out["valid"], out["problem"]) == (1, False, "wrong_length")


def test_send_with_console_keeps_stdout_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "send",
            "--sign-name",
            "【学校】",
            "--template",
            "SMS_1",
            "--params",
            '{"a": "b"}',
            "13900000001,13900000002",
        ]
    )
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert code == 0
    assert (out["accepted"], out["rejected"]) == (2, 0)
    assert captured.err.count("[sms] to 139") == 2


def test_send_reports_rejections_with_exit_code_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(["send", "--sign-name", "学校", "--template", "SMS_1", "13900000001", "12345"], capsys)
    assert code == 3
    assert [r["error_class"] for r in out["results"]] == [None, "permanent_number"]


def test_send_rejects_bad_params(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(
        ["send", "--sign-name", "学校", "--template", "SMS_1", "--params", "[1]", "13900000001"], capsys
    )
    assert (code, out["error"]) == (1, "params")


def test_send_through_aliyun_with_credentials_from_env(
    simulator: DysmsapiSimulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIYUN_ACCESS_KEY_ID", "simulator")
    monkeypatch.setenv("ALIYUN_ACCESS_KEY_SECRET", "simulator-secret")
    argv = ["send", "--provider", "aliyun", "--endpoint", simulator.url, "--sign-name", "【洛阳一小】"]
    argv += ["--template", "SMS_NOTICE", "--params", '{"class": "一班", "title": "春游"}', "13900000001"]
    code, out = run(argv, capsys)
    assert code == 0
    assert out["results"][0]["biz_id"] == simulator.sends[0].biz_id
    assert simulator.sends[0].content == "【洛阳一小】一班有新通知《春游》，回复1确认"


def test_send_through_aliyun_without_credentials_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALIYUN_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("ALIYUN_ACCESS_KEY_SECRET", raising=False)
    code, out = run(
        ["send", "--provider", "aliyun", "--sign-name", "学校", "--template", "T", "13900000001"], capsys
    )
    assert (code, out["error"], out["code"]) == (1, "configuration", "MISSING_CREDENTIALS")


def test_simulate_and_send_as_processes() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "sms_gateway", "simulate", "--port", "0", "--template", "SMS_1=你好${name}"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert server.stdout is not None
        url = json.loads(server.stdout.readline())["simulator"]
        sent = subprocess.run(
            [sys.executable, "-m", "sms_gateway", "send", "--provider", "simulator", "--endpoint", url]
            + ["--sign-name", "学校", "--template", "SMS_1", "--params", '{"name": "王"}', "13900000001"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=30,
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert sent.returncode == 0, sent.stderr
    result = json.loads(sent.stdout)["results"][0]
    assert result["accepted"] is True
    assert result["biz_id"].endswith("^0")
