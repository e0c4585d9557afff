"""Mainland China mobile numbers: normalisation, validation, carrier by number segment.

The carrier is only a hint: since 2019 携号转网 (number portability) lets a subscriber
keep a number while moving to another carrier, so the segment tells which carrier the
number was *issued* by, not who serves it today. Use it for statistics and routing
preferences, never for anything that must be right.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Carrier(StrEnum):
    """Issuing carrier of a number segment."""

    MOBILE = "mobile"
    UNICOM = "unicom"
    TELECOM = "telecom"
    BROADNET = "broadnet"
    UNKNOWN = "unknown"

    @property
    def chinese_name(self) -> str:
        """The carrier's Chinese name, e.g. 中国移动 (empty-ish 未知 for unknown)."""
        return _CHINESE_NAMES[self]


_CHINESE_NAMES: Final = MappingProxyType(
    {
        Carrier.MOBILE: "中国移动",
        Carrier.UNICOM: "中国联通",
        Carrier.TELECOM: "中国电信",
        Carrier.BROADNET: "中国广电",
        Carrier.UNKNOWN: "未知",
    }
)


def _segments(carrier: Carrier, *prefixes: str) -> dict[str, Carrier]:
    return dict.fromkeys(prefixes, carrier)


#: THE segment table (MIIT allocation as of 2024). Keys are 3-digit segments or 4-digit
#: sub-segments; a 4-digit key wins over its 3-digit parent. 14x and some 16x/17x segments
#: are data/IoT or virtual-operator (虚拟运营商) ranges, listed under their host network.
SEGMENT_CARRIERS: Final = MappingProxyType(
    {
        **_segments(
            Carrier.MOBILE,
            *("134", "135", "136", "137", "138", "139"),
            *("147", "148", "150", "151", "152", "157", "158", "159"),
            *("165", "172", "178", "182", "183", "184", "187", "188"),
            *("195", "197", "198"),
            *("1703", "1705", "1706"),  # mobile-hosted virtual operators
        ),
        **_segments(
            Carrier.UNICOM,
            *("130", "131", "132", "145", "146", "155", "156"),
            *("166", "167", "171", "175", "176", "185", "186", "196"),
            *("1704", "1707", "1708", "1709"),  # unicom-hosted virtual operators
        ),
        **_segments(
            Carrier.TELECOM,
            *("133", "149", "153", "162", "173", "177"),
            *("180", "181", "189", "190", "191", "193", "199"),
            *("1700", "1701", "1702"),  # telecom-hosted virtual operators
            "1740",  # 天通 satellite
        ),
        **_segments(Carrier.BROADNET, "192"),
        # 1349 was the 中国卫通 satellite block inside mobile's 134: not a mobile number.
        "1349": Carrier.UNKNOWN,
    }
)

_MOBILE_PATTERN: Final = re.compile(r"1[3-9][0-9]{9}")  # [0-9], not \d: \d matches any script
_STRIPPED: Final = re.compile(r"[\s\-‐‑‒–—]")  # whitespace and dash look-alikes


class PhoneProblem(StrEnum):
    """Why a string is not a valid mainland mobile number (stable codes for the API layer)."""

    EMPTY = "empty"
    INVALID_CHARACTERS = "invalid_characters"
    FOREIGN_NUMBER = "foreign_number"
    WRONG_LENGTH = "wrong_length"
    NOT_MOBILE = "not_mobile"


_PROBLEM_TEXT: Final = MappingProxyType(
    {
        PhoneProblem.EMPTY: "no phone number given",
        PhoneProblem.INVALID_CHARACTERS: "only digits, spaces, dashes and a leading + are allowed",
        PhoneProblem.FOREIGN_NUMBER: "country code is not +86 (mainland China)",
        PhoneProblem.WRONG_LENGTH: "a mainland mobile number has 11 digits",
        PhoneProblem.NOT_MOBILE: "a mainland mobile number starts with 13-19",
    }
)


class InvalidPhoneNumber(ValueError):
    """Raised by :func:`normalize_phone`; ``problem`` says why."""

    def __init__(self, raw: str, problem: PhoneProblem) -> None:
        super().__init__(f"invalid phone number {raw!r}: {_PROBLEM_TEXT[problem]}")
        self.raw = raw
        self.problem = problem


@dataclass(frozen=True, slots=True)
class PhoneCheck:
    """Result of :func:`check_phone`: either ``phone`` is set, or ``problem`` is."""

    raw: str
    phone: str | None
    problem: PhoneProblem | None

    @property
    def valid(self) -> bool:
        """True when the number normalised to a valid mainland mobile number."""
        return self.phone is not None

    @property
    def carrier(self) -> Carrier:
        """Issuing carrier (a hint: see the module docstring on portability)."""
        return carrier_of(self.phone) if self.phone is not None else Carrier.UNKNOWN


def check_phone(raw: str) -> PhoneCheck:
    """Normalise ``raw`` and say whether it is a mainland mobile number, without raising.

    Full-width digits are folded (NFKC), spaces and dashes removed, then a leading
    ``+86``, ``0086`` or (on 13 digits) ``86`` is stripped; the rest must match
    ``^1[3-9]\\d{9}$``.
    """
    if _MOBILE_PATTERN.fullmatch(raw):
        # Already normal (every number the roster stores): a mass text checks 100,000 of
        # them, and NFKC plus the substitution were most of that time (bench/ mass_text).
        return PhoneCheck(raw, raw, None)
    text = _STRIPPED.sub("", unicodedata.normalize("NFKC", raw))
    if not text:
        return PhoneCheck(raw, None, PhoneProblem.EMPTY)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif text.startswith(("+", "00")):
        return PhoneCheck(raw, None, PhoneProblem.FOREIGN_NUMBER)
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    if not text.isascii() or not (text.isdigit() or text == ""):
        return PhoneCheck(raw, None, PhoneProblem.INVALID_CHARACTERS)
    if len(text) != 11:
        return PhoneCheck(raw, None, PhoneProblem.WRONG_LENGTH)
    if not _MOBILE_PATTERN.fullmatch(text):
        return PhoneCheck(raw, None, PhoneProblem.NOT_MOBILE)
    return PhoneCheck(raw, text, None)


def normalize_phone(raw: str) -> str:
    """Return the 11-digit form of ``raw`` or raise :class:`InvalidPhoneNumber`.

    Idempotent: ``normalize_phone(normalize_phone(x)) == normalize_phone(x)``.
    """
    result = check_phone(raw)
    if result.phone is None:
        assert result.problem is not None
        raise InvalidPhoneNumber(raw, result.problem)
    return result.phone


def is_valid_phone(raw: str) -> bool:
    """True when ``raw`` normalises to a valid mainland mobile number."""
    return check_phone(raw).valid


def carrier_of(phone: str) -> Carrier:
    """Issuing carrier of ``phone`` (normalised first), by :data:`SEGMENT_CARRIERS`.

    Only a hint: with number portability (携号转网) a number may now be served by
    another carrier. Invalid numbers and unallocated segments give ``Carrier.UNKNOWN``.
    """
    checked = check_phone(phone)
    if checked.phone is None:
        return Carrier.UNKNOWN
    for segment in (checked.phone[:4], checked.phone[:3]):
        if segment in SEGMENT_CARRIERS:
            return SEGMENT_CARRIERS[segment]
    return Carrier.UNKNOWN
