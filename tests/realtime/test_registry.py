"""The event-type registry other apps declare their events in."""

from __future__ import annotations

import pytest

from backend.realtime.registry import event_type_get, register_event, registered_events

from .conftest import TEST_EVENT, TEST_SCHEMA


def test_registered_types_are_listed_with_their_definition() -> None:
    definition = registered_events()[TEST_EVENT]
    assert (definition.name, dict(definition.schema), definition.description, definition.audience) == (
        TEST_EVENT,
        TEST_SCHEMA,
        "测试事件",
        "测试用户",
    )
    with pytest.raises(TypeError):
        registered_events()["x.y"] = definition  # type: ignore[index]


def test_registering_the_same_definition_again_is_harmless() -> None:
    again = register_event(TEST_EVENT, schema=dict(TEST_SCHEMA), description="测试事件", audience="测试用户")
    assert again is registered_events()[TEST_EVENT]


def test_a_different_definition_under_a_taken_name_is_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_event(TEST_EVENT, schema={"type": "object"}, description="测试事件", audience="测试用户")


@pytest.mark.parametrize(
    "name", ["ping", "resumed", "Notice.Created", "notice.", "notice..created", "a." + "b" * 70]
)
def test_names_must_be_dotted_lowercase_and_fit_the_column(name: str) -> None:
    with pytest.raises(ValueError, match="must look like"):
        register_event(name, schema={"type": "object"}, description="说明", audience="所有人")
    assert name not in registered_events()


def test_schema_description_and_audience_are_required() -> None:
    with pytest.raises(ValueError, match="invalid JSON Schema"):
        register_event(
            "test.bad_schema", schema={"type": "no-such-type"}, description="说明", audience="所有人"
        )
    with pytest.raises(ValueError, match="description"):
        register_event("test.undocumented", schema={"type": "object"}, description=" ", audience="所有人")
    assert "test.bad_schema" not in registered_events()
    assert "test.undocumented" not in registered_events()


def test_validation_reports_where_the_data_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"at n: 'x' is not of type 'integer'"):
        event_type_get(TEST_EVENT).validate({"n": "x"})
    event_type_get(TEST_EVENT).validate({"n": 1, "note": "好"})
    with pytest.raises(ValueError, match="unregistered"):
        event_type_get("nobody.registered_this")
