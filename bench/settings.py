"""Production settings for the benchmarks: PostgreSQL (database jiaxiao_bench) and the
Redis channel layer, with harmless defaults for the secrets production requires.
Only what cannot run on a bench machine differs: no TLS redirect, memory SMS and push
unless a scenario points push at the mock FCM."""

from __future__ import annotations

import os
from datetime import timedelta

os.environ.setdefault("SECRET_KEY", "bench-not-a-secret-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jiaxiao_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("SMS_CALLBACK_TOKEN", "bench")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# DB_CONN_MAX_AGE stays 0 (production default): under ASGI every request runs in its own
# thread-sensitive context, so persistent connections pile up (one per context) until
# PostgreSQL refuses clients (seen here: "too many clients already").
os.environ["DB_CONN_MAX_AGE"] = "0"
os.environ.setdefault("LOG_LEVEL", "WARNING")

from backend.settings.production import *  # noqa: F403
from backend.settings.production import CHANNEL_LAYERS, SIMPLE_JWT

# Keep bench traffic apart from other users of the same Redis server.
# BENCH_LAYER_PREFIX: a second set of servers in the same run on a layer of its own
# (the broadcast scenario's Channels floor), so group sends do not reach both.
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = os.environ.get("BENCH_LAYER_PREFIX", "bench")
SMS_PROVIDER = os.environ.get("BENCH_SMS_PROVIDER", "memory")
PUSH_BACKEND = os.environ.get("BENCH_PUSH_BACKEND", "memory")
SMS_PROVIDER_OPTIONS: dict[str, object] = {}
SIMPLE_JWT = {**SIMPLE_JWT, "ACCESS_TOKEN_LIFETIME": timedelta(hours=2)}
# Benchmarks hammer one account; the lockout would only get in the way of login tests.
AXES_ENABLED = False

# Apps being built in the working tree before the lead wires them into INSTALLED_APPS:
# other apps already import them, so the bench must load them too.
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _app in ("privacy", "stats", "messaging"):
    _label = f"backend.{_app}"
    if _label not in INSTALLED_APPS and os.path.exists(os.path.join(_HERE, "backend", _app, "apps.py")):  # noqa: F405
        INSTALLED_APPS = [*INSTALLED_APPS, _label]  # noqa: F405

# Experiments (unset = production as configured): BENCH_LAYER_MAX_CONNECTIONS raises the
# channel layer's Redis pool limit (redis-py's default is 100, and it fails fast when
# exhausted); BENCH_CHANNEL_LAYER=pubsub swaps in RedisPubSubChannelLayer.
if os.environ.get("BENCH_LAYER_MAX_CONNECTIONS"):
    for _host in CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]:
        _host["max_connections"] = int(os.environ["BENCH_LAYER_MAX_CONNECTIONS"])
if os.environ.get("BENCH_CHANNEL_LAYER") == "pubsub":
    CHANNEL_LAYERS["default"] = {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": [{"address": REDIS_URL}],  # noqa: F405
            "prefix": os.environ.get("BENCH_LAYER_PREFIX", "bench"),
        },
    }
