"""Test settings: the embedded default unless DATABASE_URL / REDIS_URL are set, in which
case the same suite runs against PostgreSQL and Redis (CI does both)."""

from __future__ import annotations

import os

from .base import env
from .embedded import *

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / "var" / "test-media"

if not env("DATABASE_URL"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# pytest-xdist workers each get their own test database, so user ids repeat between
# workers: give each worker its own Redis database and channel-layer prefix.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_WORKER_INDEX = int(_WORKER[2:]) if _WORKER[2:].isdigit() else 0

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    _base = REDIS_URL.rsplit("/", 1)[0] if REDIS_URL.count("/") > 2 else REDIS_URL
    REDIS_URL = f"{_base}/{1 + _WORKER_INDEX}"
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "backend.realtime.layers.FanoutRedisChannelLayer",
            "CONFIG": {
                # See production.py: redis-py 8's 5 s read timeout kills idle sockets.
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                "capacity": 20000,  # as production.py
                "expiry": 30,
                "prefix": f"asgi-{_WORKER}",
            },
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# Consent for minors' data is enforced in production and the demo; the privacy tests turn
# it on themselves, the other apps' tests exercise their own rules without it.
PRIVACY_ENFORCE_CONSENT = False
SMS_PROVIDER = "memory"
PUSH_BACKEND = "memory"
REALTIME_VALIDATE_EVENTS = True

LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
