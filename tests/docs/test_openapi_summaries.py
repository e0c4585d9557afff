"""Every operation in mobile_api_docs/openapi.yaml is summarised in Chinese and English
("登录 / Log in") and names its errors."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

OPENAPI = Path(__file__).resolve().parents[2] / "mobile_api_docs" / "openapi.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}
CJK = re.compile(r"[\u3400-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2,}")

# House rule (ARCHITECTURE.md): extend_schema names the error codes, either as declared
# 4xx responses or in the description ("错误码：…" / "Errors: 404 not_found"). These
# operations did neither when this check was introduced (v1.0.0). Shrink this list,
# never grow it.
WITHOUT_ERRORS = {
    "GET /api/v1/me/notification-settings/",
    "GET /api/v1/sms/jobs/",
    "GET /api/v1/sms/templates/",
}
ERRORS_IN_DESCRIPTION = re.compile(r"\b4\d\d\b|错误码|\bErrors?\b")


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


def test_every_operation_names_its_errors():
    operations = _operations()

    without = {
        name
        for name, op in operations.items()
        if not any(code[0] in "45" for code in op["responses"])
        and not ERRORS_IN_DESCRIPTION.search(op.get("description", ""))
    }

    assert without - WITHOUT_ERRORS == set(), (
        "name the error codes in extend_schema (responses or description)"
    )
    # Fixed ones must leave the list, so it only shrinks.
    assert WITHOUT_ERRORS - without == set(), "remove fixed operations from WITHOUT_ERRORS"
