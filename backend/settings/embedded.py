"""The embedded default: one process, zero services (SQLite, in-memory channel layer,
eager Celery, console SMS and push). For a laptop, a demo and `make run`."""

from __future__ import annotations

from typing import Any

from .base import *
from .base import BASE_DIR, env, env_list

DEBUG = True
SECRET_KEY = env("SECRET_KEY", "embedded-insecure-key-not-for-production") or ""
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
(BASE_DIR / "var").mkdir(exist_ok=True)

CHANNEL_LAYERS: dict[str, dict[str, Any]] = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
