"""The admin site for schools, in Chinese, scoped to each admin's subtree (see scope.py)."""

from . import orgs, people, roster

__all__ = ["orgs", "people", "roster"]
