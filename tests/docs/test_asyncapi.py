"""mobile_api_docs/asyncapi.yaml and realtime.md: current, valid YAML, AsyncAPI 3.0
shaped, every payload a valid JSON Schema, every registered event documented."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from backend.realtime.registry import registered_events
from tools import asyncapi


def _document() -> dict[str, Any]:
    return yaml.safe_load(asyncapi.ASYNCAPI_PATH.read_text(encoding="utf-8"))


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        assert part in node, f"unresolvable $ref {ref}"
        node = node[part]
    return node


def _inline_refs(document: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline_refs(document, _resolve(document, node["$ref"]))
        return {k: _inline_refs(document, v) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(document, v) for v in node]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_generated_documents_are_current():
    for path, text in asyncapi.generated_documents().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run 'make docs'"


def test_asyncapi_has_the_required_top_level_shape():
    document = _document()

    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"]
    assert document["info"]["version"] == "1.0.0"
    assert document["channels"]["events"]["address"] == "/ws/v1/events/"
    for name, operation in document["operations"].items():
        assert operation["action"] in ("send", "receive"), name
        assert operation["channel"] == {"$ref": "#/channels/events"}, name
        assert operation["messages"], name
    assert set(document["channels"]["events"]["x-close-codes"]) == {"4401", "4403", "1003", "1009", "1011"}
    assert set(document["components"]["securitySchemes"]) == {"bearer", "ticket"}


def test_every_ref_resolves():
    document = _document()

    refs = _refs(document)

    assert len(refs) > 20
    for ref in refs:
        _resolve(document, ref)


def test_every_registered_event_is_a_documented_message_with_its_schema():
    document = _document()
    messages = document["components"]["messages"]
    sent = {ref["$ref"].rsplit("/", 1)[1] for ref in document["operations"]["receiveEvent"]["messages"]}

    assert set(registered_events()) <= set(messages)
    assert sent == set(registered_events())
    for name, definition in registered_events().items():
        payload = messages[name]["payload"]
        assert payload["properties"]["type"] == {"const": name}
        assert payload["properties"]["data"] == asyncapi._plain(definition.schema)
        assert messages[name]["x-audience"] == definition.audience


@pytest.mark.parametrize("name", ["resume", "ping", "resumed", "pong", "error", *sorted(registered_events())])
def test_every_message_payload_is_a_draft_2020_12_schema(name):
    document = _document()

    payload = _inline_refs(document, document["components"]["messages"][name]["payload"])

    Draft202012Validator.check_schema(payload)


def test_an_emitted_frame_matches_its_documented_payload(db, world):
    from django.db import transaction

    from backend.realtime.selectors import user_event_frames_after
    from backend.realtime.services import send_event_on_commit

    user = world.guardians[0][0]
    with transaction.atomic():
        send_event_on_commit([user], "notice.recalled", {"notice_id": 7})
    frame = user_event_frames_after(user_id=user.pk, after_seq=0, limit=10)[-1]
    document = _document()
    payload = _inline_refs(document, document["components"]["messages"]["notice.recalled"]["payload"])
    validator = Draft202012Validator(payload)

    assert list(validator.iter_errors(frame)) == []
    wrong = copy.deepcopy(frame)
    wrong["data"]["notice_id"] = "7"
    assert list(validator.iter_errors(wrong))


def test_protocol_frames_are_documented_as_the_server_builds_them():
    from backend.realtime.frames import FrameError

    document = _document()
    error = _inline_refs(document, document["components"]["messages"]["error"]["payload"])
    validator = Draft202012Validator(error)

    assert (
        list(validator.iter_errors(FrameError("invalid_after_seq", "after_seq 必须是非负整数").frame())) == []
    )
    assert list(validator.iter_errors({"type": "error", "code": "made_up", "message": "x"}))


def test_realtime_page_lists_every_event_type_with_its_fields():
    page = asyncapi.REALTIME_MD_PATH.read_text(encoding="utf-8")

    for name, definition in registered_events().items():
        assert f"### `{name}`" in page
        for field in definition.schema.get("properties", {}):
            assert f"| `{field}` |" in page, (name, field)
    assert "REALTIME_VALIDATE_EVENTS=True" in page


def test_the_suite_validates_emitted_payloads_as_realtime_md_says(db, world, settings):
    from django.db import transaction

    from backend.realtime.models import UserEvent
    from backend.realtime.services import send_event_on_commit

    user = world.guardians[0][0]

    assert settings.REALTIME_VALIDATE_EVENTS is True
    with pytest.raises(ValueError, match="does not match its schema"), transaction.atomic():
        send_event_on_commit([user], "notice.recalled", {"notice_id": "7"})
    assert not UserEvent.objects.filter(user=user, type="notice.recalled").exists()
