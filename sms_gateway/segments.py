"""SMS length and billing segments (China carrier rules).

A message of at most 70 characters is one segment; a longer one is sent as a
concatenated SMS of 67 characters per segment (3 go to the concatenation header).
The signature 【…】 is part of the delivered text, so it counts. Billing is per segment.
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

SINGLE_SEGMENT_LIMIT: Final = 70
MULTIPART_SEGMENT_SIZE: Final = 67
#: Providers refuse longer texts (Aliyun: 500 characters including the signature).
MAX_MESSAGE_LENGTH: Final = 500


class MessageLengthError(ValueError):
    """The message is empty or longer than :data:`MAX_MESSAGE_LENGTH`."""

    def __init__(self, length: int, message: str) -> None:
        super().__init__(message)
        self.length = length


class SmsSize(NamedTuple):
    """Length in characters (signature included) and number of billed segments."""

    length: int
    segments: int


def bracket_signature(sign_name: str) -> str:
    """Return the signature as delivered, ``【name】``, whether or not ``sign_name`` has brackets."""
    bare = bare_signature(sign_name)
    return f"【{bare}】" if bare else ""


def bare_signature(sign_name: str) -> str:
    """Return the signature without 【】 (the form Aliyun's ``SignName`` expects)."""
    return sign_name.strip().removeprefix("【").removesuffix("】").strip()


def measure(text: str, *, signature: str = "") -> SmsSize:
    """Return ``(length, segments)`` of ``text`` as delivered with ``signature``.

    ``signature`` may be given with or without 【】; it is counted with brackets.
    Length is Python ``len`` (code points). Raises :class:`MessageLengthError` for an
    empty text or a total over :data:`MAX_MESSAGE_LENGTH` characters.
    """
    if not text:
        raise MessageLengthError(0, "message text is empty")
    length = len(bracket_signature(signature)) + len(text)
    if length > MAX_MESSAGE_LENGTH:
        raise MessageLengthError(
            length,
            f"message is {length} characters (signature included); the limit is {MAX_MESSAGE_LENGTH}",
        )
    if length <= SINGLE_SEGMENT_LIMIT:
        return SmsSize(length, 1)
    return SmsSize(length, math.ceil(length / MULTIPART_SEGMENT_SIZE))
