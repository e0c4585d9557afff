"""Mainland mobile numbers as stored on accounts: the 11-digit CN form."""

from __future__ import annotations

import re

import phonenumbers

_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class InvalidPhone(ValueError):
    pass


def normalize_cn_mobile(raw: str) -> str:
    """Strip +86 / 0086 / 86 and separators; return the 11-digit number or raise InvalidPhone."""
    text = re.sub(r"[\s\-()（）]", "", str(raw or ""))
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("86") and len(text) == 13:
        text = "+" + text
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(str(raw)) from exc
    if parsed.country_code != 86:
        raise InvalidPhone(str(raw))
    national = str(parsed.national_number)
    if not _CN_MOBILE.match(national):
        raise InvalidPhone(str(raw))
    return national


def mask_phone(phone: str | None) -> str:
    """138****0001: what others may see of a number, if anything."""
    if not phone or len(phone) != 11:
        return ""
    return f"{phone[:3]}****{phone[-4:]}"
