"""Settings for `make docs-examples`: the embedded settings, with one change.

seed_demo creates about 120 demo accounts; with Django's default PBKDF2 hasher that
alone takes most of a minute, which is longer than the whole harness may take. A fast
hasher is acceptable here because the database is a throwaway in a temp directory and
the server only listens on loopback for the few seconds the examples run."""

from __future__ import annotations

from backend.settings.embedded import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
