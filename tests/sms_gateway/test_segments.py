from __future__ import annotations

import pytest

from sms_gateway.segments import MessageLengthError, SmsSize, bare_signature, bracket_signature, measure


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4), (499, 8), (500, 8)],
)
def test_segment_boundaries(length: int, segments: int) -> None:
    assert measure("字" * length) == SmsSize(length, segments)


def test_returns_a_plain_length_segments_tuple() -> None:
    length, segments = measure("a" * 71)
    assert (length, segments) == (71, 2)


def test_signature_counts_toward_length_with_brackets() -> None:
    # 【学校】 is 4 characters: 66 + 4 = 70 still fits one segment, 67 + 4 does not.
    assert measure("x" * 66, signature="【学校】") == SmsSize(70, 1)
    assert measure("x" * 67, signature="【学校】") == SmsSize(71, 2)
    assert measure("x" * 67, signature="学校") == SmsSize(71, 2)  # brackets added when missing


def test_over_500_characters_is_refused_with_the_length() -> None:
    with pytest.raises(MessageLengthError, match="501 characters") as excinfo:
        measure("x" * 497, signature="学校")
    assert excinfo.value.length == 501
    assert measure("x" * 496, signature="学校").length == 500


def test_empty_text_is_refused() -> None:
    with pytest.raises(MessageLengthError, match="empty"):
        measure("", signature="学校")


def test_signature_helpers() -> None:
    assert bracket_signature(" 学校 ") == "【学校】"
    assert bracket_signature("【学校】") == "【学校】"
    assert bare_signature("【学校】") == "学校"
    assert bracket_signature("") == ""
