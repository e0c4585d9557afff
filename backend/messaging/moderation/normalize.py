"""The text the word filter looks at: a normalised copy with a map back to the
original characters, so a match can be masked where the sender typed it.

- NFKC folds full-width letters and digits to half-width (ｓｂ → sb) and lower-cases;
- spaces, punctuation and symbols are dropped (傻 . 逼 → 傻逼);
- digits inserted between two Chinese characters are dropped (傻1逼 → 傻逼);
- a few look-alike characters fold to one spelling (see VARIANT_CHARS)."""

from __future__ import annotations

import unicodedata

# Look-alikes and homophones people type to slip a word past a filter. Only folded
# for matching; the message keeps what was typed.
VARIANT_CHARS: dict[str, str] = {
    "b": "逼",
    "比": "逼",
    "屄": "逼",
    "艹": "草",
    "操": "草",
    "肏": "草",
    "玛": "妈",
    "嘛": "妈",
    "媽": "妈",
    "殺": "杀",
    "賭": "赌",
    "薇": "微",
    "v": "微",
}


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _is_gap(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in ("P", "Z", "S", "C")


def normalize(text: str) -> tuple[str, list[int]]:
    """Return (normalised text, index of the original character of each position)."""
    chars: list[str] = []
    origin: list[int] = []
    for i, raw in enumerate(text):
        for ch in unicodedata.normalize("NFKC", raw).lower():
            if _is_gap(ch):
                continue
            chars.append(ch)
            origin.append(i)
    # Drop digit runs wedged between Chinese characters.
    keep = [True] * len(chars)
    i = 0
    while i < len(chars):
        if chars[i].isdigit():
            j = i
            while j < len(chars) and chars[j].isdigit():
                j += 1
            if i > 0 and j < len(chars) and _is_cjk(chars[i - 1]) and _is_cjk(chars[j]) and j - i <= 2:
                for k in range(i, j):
                    keep[k] = False
            i = j
        else:
            i += 1
    folded = [VARIANT_CHARS.get(ch, ch) for ch, k in zip(chars, keep, strict=True) if k]
    kept_origin = [o for o, k in zip(origin, keep, strict=True) if k]
    return "".join(folded), kept_origin


def normalize_word(word: str) -> str:
    return normalize(word)[0]
