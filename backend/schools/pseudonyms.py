"""Pseudonyms shown to classmates when a school does not allow names in public (check-in
rankings and classmates' views, homework showcases)."""

from __future__ import annotations

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def alias_label(number: int) -> str:
    """1 → "同学A", 26 → "同学Z", 27 → "同学AA" (bijective base 26, like spreadsheet columns)."""
    if number < 1:
        raise ValueError("alias numbers start at 1")
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = LETTERS[rest] + letters
    return f"同学{letters}"
