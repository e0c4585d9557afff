from __future__ import annotations

import pytest

from sms_gateway.segments import MessageLengthError, SmsSize
from sms_gateway.templates import DEFAULT_SLOT_MAX_LENGTH, SlotTooLong, Template, TemplateParamsError

NOTICE = Template(
    code="SMS_NOTICE",
    text="${class}有新通知《${title}》，回复1确认",
    max_lengths={"class": 10, "title": 20},
)


def test_render_fills_every_slot() -> None:
    assert NOTICE.slots == ("class", "title")
    assert (
        NOTICE.render({"class": "三年级2班", "title": "春游安排"})
        == "三年级2班有新通知《春游安排》，回复1确认"
    )
    assert (
        NOTICE.render_with_signature({"class": "三年级2班", "title": "春游"}, "学校")
        == "【学校】三年级2班有新通知《春游》，回复1确认"
    )


def test_missing_slot_is_named() -> None:
    with pytest.raises(TemplateParamsError, match=r"missing slot\(s\): title") as excinfo:
        NOTICE.render({"class": "三年级2班"})
    assert excinfo.value.missing == ("title",)
    assert excinfo.value.too_long == ()
    assert excinfo.value.unknown == ()


def test_too_long_slot_is_named_with_lengths() -> None:
    with pytest.raises(TemplateParamsError, match=r"title \(21 > 20 chars\)") as excinfo:
        NOTICE.render({"class": "三年级2班", "title": "通" * 21})
    assert excinfo.value.too_long == (SlotTooLong("title", 21, 20),)


def test_unknown_param_is_named() -> None:
    with pytest.raises(TemplateParamsError, match=r"unknown param\(s\): school") as excinfo:
        NOTICE.render({"class": "a", "title": "b", "school": "c"})
    assert excinfo.value.unknown == ("school",)


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(TemplateParamsError) as excinfo:
        NOTICE.render({"class": "班" * 11, "extra": "x"})
    error = excinfo.value
    assert (error.missing, [t.slot for t in error.too_long], error.unknown) == (
        ("title",),
        ["class"],
        ("extra",),
    )
    assert "SMS_NOTICE" in str(error)


def test_unconfigured_slots_get_the_aliyun_default_unless_free_text() -> None:
    strict = Template("SMS_1", "${body}")
    with pytest.raises(TemplateParamsError, match="body"):
        strict.render({"body": "x" * (DEFAULT_SLOT_MAX_LENGTH + 1)})
    free = Template("FREE", "${body}", free_text=True)
    assert free.render({"body": "x" * 300}) == "x" * 300


def test_values_are_not_expanded_twice() -> None:
    assert NOTICE.render({"class": "${title}", "title": "t"}) == "${title}有新通知《t》，回复1确认"


def test_limit_for_a_slot_the_text_lacks_is_a_typo() -> None:
    with pytest.raises(ValueError, match="titel"):
        Template("SMS_1", "${title}", max_lengths={"titel": 5})


def test_measure_counts_rendered_text_with_signature() -> None:
    # 【学校】(4) + "三年级2班有新通知《春游》，回复1确认" (19) = 23 characters, one segment.
    assert NOTICE.measure({"class": "三年级2班", "title": "春游"}, signature="学校") == SmsSize(23, 1)
    long_notice = Template("FREE", "${body}", free_text=True)
    assert long_notice.measure({"body": "x" * 67}, signature="学校") == SmsSize(71, 2)
    with pytest.raises(MessageLengthError):
        long_notice.measure({"body": "x" * 500}, signature="学校")
