"""The examples in mobile_api_docs/openapi.yaml never lie: each one validates against the
schema it illustrates, and every operation has them (request and success response, and
one per declared error code)."""

from __future__ import annotations

import copy
import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "mobile_api_docs" / "openapi.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}


def _document() -> dict[str, Any]:
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects → JSON Schema 2020-12: `nullable`, and boolean
    exclusiveMinimum/Maximum (3.0) → numeric ones."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _to_json_schema(value) for key, value in node.items() if key not in ("nullable", "example")}
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if out.get(exclusive) is True:
            out[exclusive] = out.pop(bound)
        elif out.get(exclusive) is False:
            del out[exclusive]
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def is_datetime(value: object) -> bool:
        # ISO 8601 with an offset (most of the API sends +08:00; messaging and SMS send UTC).
        return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None

    @checker.checks("date", raises=ValueError)
    def is_date(value: object) -> bool:
        return not isinstance(value, str) or bool(date.fromisoformat(value))

    @checker.checks("time", raises=ValueError)
    def is_time(value: object) -> bool:
        return not isinstance(value, str) or time.fromisoformat(value) is not None

    return checker


DOCUMENT = _document()
COMPONENTS = _to_json_schema(DOCUMENT["components"]["schemas"])
REGISTRY = Registry().with_resource(
    "urn:openapi",
    Resource.from_contents({"components": {"schemas": COMPONENTS}}, default_specification=DRAFT202012),
)
CHECKER = _checker()


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    schema = _to_json_schema(copy.deepcopy(schema))
    text = yaml.safe_dump(schema)
    text = text.replace("'#/components/", "'urn:openapi#/components/")
    return Draft202012Validator(yaml.safe_load(text), registry=REGISTRY, format_checker=CHECKER)


def _operations() -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def _examples() -> list[tuple[str, dict[str, Any], Any]]:
    """(where, schema, value) for every example in the document."""
    found = []
    for name, op in _operations().items():
        for media, content in op.get("requestBody", {}).get("content", {}).items():
            for key, example in (content.get("examples") or {}).items():
                found.append((f"{name} request {media} {key}", content["schema"], example["value"]))
        for status, response in op["responses"].items():
            for media, content in (response.get("content") or {}).items():
                for key, example in (content.get("examples") or {}).items():
                    found.append((f"{name} {status} {media} {key}", content["schema"], example["value"]))
    return found


EXAMPLES = _examples()


def test_the_document_has_examples_to_check():
    assert len(EXAMPLES) > 300


@pytest.mark.parametrize(("where", "schema", "value"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_matches_its_schema(where, schema, value):
    errors = sorted(_validator(schema).iter_errors(value), key=lambda e: list(e.absolute_path))

    assert [f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors] == []


def test_the_validation_catches_a_lying_example():
    """A check that cannot fail is a defect: a wrong type, a missing required field, a
    date-time without an offset and a null where none is allowed are caught."""
    op = _operations()["GET /api/v1/notices/{notice_id}/"]
    content = op["responses"]["200"]["content"]["application/json"]
    good = next(iter(content["examples"].values()))["value"]
    validator = _validator(content["schema"])
    assert list(validator.iter_errors(good)) == []

    for broken in (
        {**good, "id": "1"},
        {key: value for key, value in good.items() if key != "title"},
        {**good, "created_at": "2026-11-23 22:06"},
        {**good, "title": None},
    ):
        assert list(validator.iter_errors(broken)) != []


def _json_content(part: dict[str, Any]) -> dict[str, Any] | None:
    return (part.get("content") or {}).get("application/json")


def test_every_request_body_has_an_example():
    missing = sorted(
        name
        for name, op in _operations().items()
        for media, content in op.get("requestBody", {}).get("content", {}).items()
        # JSON bodies; a file upload's body is the file itself.
        if media == "application/json" and not content.get("examples")
    )

    assert missing == []


def test_every_operation_has_a_success_example():
    """Every 2xx JSON response has an example (the others are 204 or a file: a download,
    a spreadsheet)."""
    missing = []
    for name, op in _operations().items():
        successes = {status: r for status, r in op["responses"].items() if status.startswith("2")}
        assert successes, name
        for status, response in successes.items():
            content = _json_content(response)
            if content is not None and not content.get("examples"):
                missing.append(f"{name} {status}")

    assert missing == []


def _raised_codes() -> set[str]:
    """Every error code the code can answer: ApiError("code", …) and its subclasses,
    `code="…"` helpers, and the shared handler's codes (backend/conventions/errors.py)."""
    patterns = [
        r'(?:ApiError|RetryLater|AuthenticationRejected|RosterFileError)\(\s*"([a-z_]+)"',
        r'^([A-Z_]+) = "([a-z_]+)"$',  # DATE_IN_FUTURE = "date_in_future" (checked below)
        r'\bcode="([a-z_]+)"',
        r'error_response\("([a-z_]+)"',
        r':\s*\("([a-z_]+)",\s*"',  # _STATUS_CODES: {exception: ("code", "message")}
    ]
    codes: set[str] = set()
    for path in (ROOT / "backend").rglob("*.py"):
        if path.name == "schema.py" and path.parent.name == "conventions":
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in patterns:
            for found in re.findall(pattern, text, re.M):
                if isinstance(found, tuple):  # a constant: only NAME = "name"
                    found = found[1] if found[0] == found[1].upper() else ""
                codes.add(found)
        # ApiError(f"invalid_{name}", …) for the `before` / `after` cursors of messages.
        if 'ApiError(f"invalid_{name}"' in text:
            codes |= {f"invalid_{n}" for n in re.findall(r'_cursor\(request, "([a-z_]+)"\)', text)}
    return codes


ERROR_EXAMPLES = [
    (name, status, example["value"])
    for name, op in _operations().items()
    for status, response in op["responses"].items()
    if status[0] == "4"
    for example in (_json_content(response) or {}).get("examples", {}).values()
]


def test_every_declared_error_code_is_one_the_code_raises():
    raised = _raised_codes()
    assert {"not_found", "invalid", "assignment_closed", "invalid_before", "account_locked"} <= raised

    invented = sorted(
        {
            f"{name} {status} {value['error']['code']}"
            for name, status, value in ERROR_EXAMPLES
            if value["error"]["code"] not in raised
        }
    )

    assert invented == []


def test_every_error_message_is_chinese():
    cjk = re.compile(r"[\u3400-\u9fff]")

    assert [f"{n} {s}" for n, s, v in ERROR_EXAMPLES if not cjk.search(v["error"]["message"])] == []
