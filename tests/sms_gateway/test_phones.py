from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import carrier as pn_carrier

from sms_gateway.phones import (
    SEGMENT_CARRIERS,
    Carrier,
    InvalidPhoneNumber,
    PhoneProblem,
    carrier_of,
    check_phone,
    is_valid_phone,
    normalize_phone,
)


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "+8613800138000",
        "+86 138 0013 8000",
        "0086-138-0013-8000",
        "8613800138000",
        "138-0013-8000",
        " 138 0013 8000\t\n",
        "１３８００１３８０００",  # full-width digits from spreadsheets
        "＋８６ １３８ ００１３ ８０００",
        "138–0013–8000",  # en dash
    ],
)
def test_normalize_accepts_common_spellings(raw: str) -> None:
    assert normalize_phone(raw) == "13800138000"
    assert is_valid_phone(raw)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", PhoneProblem.EMPTY),
        ("  - ", PhoneProblem.EMPTY),
        ("12345", PhoneProblem.WRONG_LENGTH),
        ("+86", PhoneProblem.WRONG_LENGTH),
        ("138001380001", PhoneProblem.WRONG_LENGTH),
        ("86138001380", PhoneProblem.NOT_MOBILE),  # 11 digits: "86" is not a prefix here
        ("12800138000", PhoneProblem.NOT_MOBILE),
        ("10086000000", PhoneProblem.NOT_MOBILE),
        ("+1 415 555 0100", PhoneProblem.FOREIGN_NUMBER),
        ("001 415 555 0100", PhoneProblem.FOREIGN_NUMBER),
        ("138OO138000", PhoneProblem.INVALID_CHARACTERS),
        ("(138)00138000", PhoneProblem.INVALID_CHARACTERS),
        ("١٣٨٠٠١٣٨٠٠٠", PhoneProblem.INVALID_CHARACTERS),  # Arabic-Indic digits match \d
    ],
)
def test_invalid_numbers_say_why(raw: str, problem: PhoneProblem) -> None:
    result = check_phone(raw)
    assert result.phone is None
    assert result.problem is problem
    assert not result.valid
    with pytest.raises(InvalidPhoneNumber) as excinfo:
        normalize_phone(raw)
    assert excinfo.value.problem is problem
    assert repr(raw) in str(excinfo.value)


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("13800138000", Carrier.MOBILE),
        ("15012345678", Carrier.MOBILE),
        ("19512345678", Carrier.MOBILE),
        ("19812345678", Carrier.MOBILE),
        ("16512345678", Carrier.MOBILE),
        ("17031234567", Carrier.MOBILE),
        ("17061234567", Carrier.MOBILE),
        ("13012345678", Carrier.UNICOM),
        ("18612345678", Carrier.UNICOM),
        ("16612345678", Carrier.UNICOM),
        ("16712345678", Carrier.UNICOM),
        ("19612345678", Carrier.UNICOM),
        ("17041234567", Carrier.UNICOM),
        ("17091234567", Carrier.UNICOM),
        ("13312345678", Carrier.TELECOM),
        ("16212345678", Carrier.TELECOM),
        ("19012345678", Carrier.TELECOM),
        ("19912345678", Carrier.TELECOM),
        ("17001234567", Carrier.TELECOM),
        ("17021234567", Carrier.TELECOM),
        ("17401234567", Carrier.TELECOM),
        ("19212345678", Carrier.BROADNET),
        ("13491234567", Carrier.UNKNOWN),  # satellite block inside mobile's 134
        ("14012345678", Carrier.UNKNOWN),
        ("17411234567", Carrier.UNKNOWN),
        ("not a phone", Carrier.UNKNOWN),
    ],
)
def test_carrier_by_segment(phone: str, expected: Carrier) -> None:
    assert carrier_of(phone) is expected


def test_carrier_works_on_unnormalised_input_and_has_chinese_names() -> None:
    assert carrier_of("+86 192 1234 5678") is Carrier.BROADNET
    assert check_phone("0086 13312345678").carrier is Carrier.TELECOM
    assert [c.chinese_name for c in Carrier] == ["中国移动", "中国联通", "中国电信", "中国广电", "未知"]


def test_segment_table_is_well_formed_and_has_no_redundant_entries() -> None:
    for segment, found in SEGMENT_CARRIERS.items():
        assert segment.isdigit(), segment
        assert len(segment) in (3, 4), segment
        assert segment[1] in "3456789", segment
        if len(segment) == 4:
            # A 4-digit entry exists only to differ from its 3-digit parent.
            assert SEGMENT_CARRIERS.get(segment[:3]) is not found, segment


def test_segment_table_agrees_with_libphonenumber() -> None:
    """Cross-check against libphonenumber's carrier data wherever it names a carrier."""
    checked, mismatches = 0, []
    for segment, found in SEGMENT_CARRIERS.items():
        number = phonenumbers.parse("+86" + (segment + "00123456")[:11])
        expected = pn_carrier.name_for_number(number, "zh")
        if expected:
            checked += 1
            if found.chinese_name != expected:
                mismatches.append((segment, found.chinese_name, expected))
    assert mismatches == []
    assert checked >= 60  # libphonenumber knows nearly every segment; guard against a vacuous pass


mobile_numbers = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@given(
    number=mobile_numbers,
    prefix=st.sampled_from(["", "+86", "0086", "86", "+86 ", "0086-", "+86-"]),
    separators=st.lists(st.sampled_from([" ", "-"]), min_size=11, max_size=11),
)
def test_any_valid_number_round_trips_with_prefixes(number: str, prefix: str, separators: list[str]) -> None:
    spaced = "".join(d + s for d, s in zip(number, separators, strict=True))
    assert normalize_phone(prefix + spaced) == number


@given(st.text(alphabet=st.sampled_from("0123456789+- ８６１３")))
def test_normalize_is_idempotent(raw: str) -> None:
    result = check_phone(raw)
    if result.phone is not None:
        assert normalize_phone(result.phone) == result.phone
        assert normalize_phone(normalize_phone(raw)) == normalize_phone(raw)
    else:
        assert result.problem is not None


@given(st.text())
def test_check_phone_never_raises(raw: str) -> None:
    result = check_phone(raw)
    assert (result.phone is None) != (result.problem is None)
