"""Apply the word list and the number masks to a message body."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .automaton import Automaton
from .normalize import normalize, normalize_word

MASK = "＊"
BLOCK = "block"
MASK_POLICY = "mask"

# Mobile numbers with optional separators (138-0000-0000, 138 0000 0000) and 18-char
# ID-card numbers; matched on the NFKC text so full-width digits count too.
_SEP = r"[\s\-－—.·]?"
PHONE_RE = re.compile(r"(?<!\d)1[3-9](?:" + _SEP + r"\d){9}(?!\d)")
ID_CARD_RE = re.compile(
    r"(?<![\dA-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])"
)


@dataclass(frozen=True)
class Verdict:
    body: str
    held: bool
    # [{"word": ..., "policy": ...}] for words, [{"kind": "phone"|"id_card"}] for numbers.
    hits: list[dict[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.hits) and not self.held


@lru_cache(maxsize=1)
def default_words() -> tuple[tuple[str, str], ...]:
    """The platform's list (default_words.txt), read once per process: it ships with
    the code, so it changes only with a deploy."""
    path = Path(__file__).with_name("default_words.txt")
    rows: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, policy = line.partition(" ")
        rows.append((word, policy.strip() or MASK_POLICY))
    return tuple(rows)


@lru_cache(maxsize=256)
def _compiled(entries: tuple[tuple[str, str], ...]) -> tuple[Automaton, dict[str, tuple[str, str]]]:
    # Normalised spelling -> (word as listed, policy); "block" wins over "mask".
    policies: dict[str, tuple[str, str]] = {}
    for word, policy in entries:
        key = normalize_word(word)
        if not key:
            continue
        if key not in policies or policy == BLOCK:
            policies[key] = (word, policy)
    return Automaton(policies), policies


def _fold_char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 else ch


def _mask_numbers(text: str) -> tuple[str, list[dict[str, str]]]:
    # Per-character folding keeps positions aligned with the original text.
    folded = "".join(_fold_char(ch) for ch in text)
    chars = list(text)
    hits: list[dict[str, str]] = []
    for kind, pattern in (("id_card", ID_CARD_RE), ("phone", PHONE_RE)):
        for match in pattern.finditer(folded):
            hits.append({"kind": kind})
            for i in range(match.start(), match.end()):
                if folded[i].isalnum():
                    chars[i] = MASK
        folded = "".join(MASK if c == MASK else f for c, f in zip(chars, folded, strict=True))
    return "".join(chars), hits


def moderate_text(text: str, *, words: Iterable[tuple[str, str]], mask_numbers: bool = False) -> Verdict:
    """Check `text` against `words` ((word, policy) pairs). Any "block" word holds the
    message; "mask" words are replaced with ＊ where they were typed (inserted spaces
    and punctuation included). With `mask_numbers`, phone and ID-card numbers are masked."""
    automaton, policies = _compiled(tuple(sorted(set(words))))
    normalised, origin = normalize(text)
    hits: list[dict[str, str]] = []
    held = False
    chars = list(text)
    for start, end, key in automaton.find(normalised):
        word, policy = policies[key]
        hits.append({"word": word, "policy": policy})
        if policy == BLOCK:
            held = True
            continue
        for i in range(origin[start], origin[end - 1] + 1):
            chars[i] = MASK
    body = "".join(chars)
    if mask_numbers:
        body, number_hits = _mask_numbers(body)
        hits.extend(number_hits)
    unique = [dict(t) for t in dict.fromkeys(tuple(sorted(h.items())) for h in hits)]
    return Verdict(body=body, held=held, hits=unique)
