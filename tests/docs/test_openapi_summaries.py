"""Every operation in mobile_api_docs/openapi.yaml is summarised in Chinese and English
("登录 / Log in"), declares its errors and says how it authenticates."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

OPENAPI = Path(__file__).resolve().parents[2] / "mobile_api_docs" / "openapi.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}
CJK = re.compile(r"[\u3400-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2,}")

ENVELOPE = "#/components/schemas/ErrorEnvelope"


def _operations() -> dict[str, dict]:
    document = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_every_operation_has_a_chinese_and_english_summary():
    operations = _operations()

    missing = sorted(
        name
        for name, op in operations.items()
        if not (CJK.search(op.get("summary", "")) and LATIN.search(op.get("summary", "")))
    )

    assert len(operations) > 50
    assert missing == []


def test_every_operation_declares_its_errors():
    """House rule (ARCHITECTURE.md): every operation declares its 4xx responses
    (backend.conventions.schema.error_responses, plus 401/429/malformed JSON added for
    every operation of a kind), each with the shared envelope and an example per code."""
    operations = _operations()

    without = sorted(name for name, op in operations.items() if not any(s[0] == "4" for s in op["responses"]))
    undocumented = sorted(
        f"{name} {status}"
        for name, op in operations.items()
        for status, response in op["responses"].items()
        if status[0] == "4"
        and not (
            response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref") == ENVELOPE
            and response["content"]["application/json"].get("examples")
        )
    )

    assert without == []
    assert undocumented == []


def test_authenticated_operations_declare_401_and_public_ones_say_so():
    operations = _operations()
    public = {
        "POST /api/v1/auth/token/",
        "POST /api/v1/auth/token/refresh/",
        "POST /api/v1/auth/sms-code/",
        "POST /api/v1/auth/token/sms/",
        "GET /api/v1/files/download/{token}/",
        "GET /api/v1/privacy/exports/download/{token}/",
        "POST /api/v1/sms/callbacks/{provider}/report/",
        "POST /api/v1/sms/callbacks/{provider}/reply/",
    }

    assert {name for name, op in operations.items() if op.get("security") == [{}]} == public
    for name, op in operations.items():
        if name in public:
            continue
        assert op.get("security") == [{"jwtAuth": []}], name
        examples = op["responses"]["401"]["content"]["application/json"]["examples"]
        assert {e["value"]["error"]["code"] for e in examples.values()} >= {
            "not_authenticated",
            "token_invalid",
        }, name
