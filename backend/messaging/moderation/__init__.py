"""Content moderation for messages: sensitive words (Aho-Corasick over a normalised
copy of the text) and masking of phone and ID-card numbers typed by students."""

from .filtering import Verdict, moderate_text

__all__ = ["Verdict", "moderate_text"]
