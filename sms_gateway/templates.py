"""Approved SMS templates with typed ``${slot}`` variables and per-slot length limits.

Aliyun (and every carrier-approved channel) sends only approved templates; a free-form
notice cannot be one variable. A :class:`Template` checks parameters *before* sending
so the caller learns which slot is wrong instead of getting a provider error later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from sms_gateway.segments import SmsSize, bracket_signature, measure

_SLOT: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: Aliyun's limit for a notice-template variable when no tighter one is configured.
DEFAULT_SLOT_MAX_LENGTH: Final = 35


@dataclass(frozen=True, slots=True)
class SlotTooLong:
    """One over-long parameter."""

    slot: str
    length: int
    limit: int


class TemplateParamsError(ValueError):
    """Parameters do not fit the template; attributes name every offending slot."""

    def __init__(
        self,
        template_code: str,
        *,
        missing: tuple[str, ...] = (),
        too_long: tuple[SlotTooLong, ...] = (),
        unknown: tuple[str, ...] = (),
    ) -> None:
        parts = []
        if missing:
            parts.append("missing slot(s): " + ", ".join(missing))
        if too_long:
            parts.append(
                "too long: " + ", ".join(f"{t.slot} ({t.length} > {t.limit} chars)" for t in too_long)
            )
        if unknown:
            parts.append("unknown param(s): " + ", ".join(unknown))
        super().__init__(f"template {template_code}: " + "; ".join(parts))
        self.template_code = template_code
        self.missing = missing
        self.too_long = too_long
        self.unknown = unknown


@dataclass(frozen=True)
class Template:
    """An approved template.

    ``code`` is the provider's template code (e.g. ``SMS_123456``), ``text`` the approved
    text without the signature, e.g. ``"${class}有新通知《${title}》，回复1确认"``.
    ``max_lengths`` caps individual slots; other slots get :data:`DEFAULT_SLOT_MAX_LENGTH`
    unless ``free_text`` is set (a free-text channel such as a CMPP provincial gateway,
    where only the whole-message limit applies).
    """

    code: str
    text: str
    max_lengths: Mapping[str, int] = field(default_factory=dict)
    free_text: bool = False

    def __post_init__(self) -> None:
        stray = sorted(set(self.max_lengths) - set(self.slots))
        if stray:
            # A limit on a slot the text does not have is a typo that would silently not apply.
            raise ValueError(f"template {self.code}: max_lengths for unknown slot(s) {stray}")

    @property
    def slots(self) -> tuple[str, ...]:
        """Slot names in order of first appearance."""
        return tuple(dict.fromkeys(_SLOT.findall(self.text)))

    def slot_limit(self, slot: str) -> int | None:
        """Maximum length of ``slot``, or None when unlimited."""
        if slot in self.max_lengths:
            return self.max_lengths[slot]
        return None if self.free_text else DEFAULT_SLOT_MAX_LENGTH

    def check(self, params: Mapping[str, str]) -> None:
        """Raise :class:`TemplateParamsError` naming missing, too-long and unknown params."""
        slots = self.slots
        missing = tuple(s for s in slots if s not in params)
        unknown = tuple(sorted(set(params) - set(slots)))
        too_long = []
        for slot in slots:
            limit = self.slot_limit(slot)
            if slot in params and limit is not None and len(params[slot]) > limit:
                too_long.append(SlotTooLong(slot, len(params[slot]), limit))
        if missing or unknown or too_long:
            raise TemplateParamsError(self.code, missing=missing, too_long=tuple(too_long), unknown=unknown)

    def render(self, params: Mapping[str, str]) -> str:
        """Return the text with every slot filled (signature not included).

        Substitution is single-pass, so a value containing ``${x}`` stays literal.
        """
        self.check(params)
        return _SLOT.sub(lambda m: params[m.group(1)], self.text)

    def render_with_signature(self, params: Mapping[str, str], signature: str) -> str:
        """Return ``【signature】`` followed by the rendered text: what the phone shows."""
        return bracket_signature(signature) + self.render(params)

    def measure(self, params: Mapping[str, str], *, signature: str) -> SmsSize:
        """Length and billed segments of the rendered text with ``signature``.

        Raises :class:`TemplateParamsError` or :class:`~sms_gateway.segments.MessageLengthError`.
        """
        return measure(self.render(params), signature=signature)
