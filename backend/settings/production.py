"""Production: PostgreSQL, Redis (channel layer, cache, Celery broker), N ASGI processes.
Every secret is required from the environment; DEBUG cannot be turned on here."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *
from .base import env, env_bool, env_list


def required(name: str) -> str:
    value = env(name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production")
    return value


DEBUG = False  # never read from the environment
SECRET_KEY = required("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or []
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production")
required("DATABASE_URL")
# A pool of PostgreSQL connections per process (psycopg_pool, Django ≥ 5.1). Under ASGI
# every request runs in its own thread-sensitive context, so without a pool each request
# opened (forked) a new PostgreSQL backend: ~2/3 of /me/'s cost in bench/. The pool hands
# a connection back when the request ends; DB_CONN_MAX_AGE must stay 0 with it.
# DB_POOL_MAX_SIZE bounds connections per process: size PostgreSQL's max_connections for
# (ASGI processes + Celery worker processes) × this.
if env_bool("DB_POOL", True) and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(env("DB_POOL_MIN_SIZE", "2") or 2),
        "max_size": int(env("DB_POOL_MAX_SIZE", "20") or 20),
        "timeout": int(env("DB_POOL_TIMEOUT", "10") or 10),
    }
REDIS_URL = required("REDIS_URL")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "backend.realtime.layers.FanoutRedisChannelLayer",
        # socket_timeout None: redis-py 8 defaults to a 5 s read timeout, while channels-redis
        # blocks on Redis for up to 5 s per receive, so idle sockets would die with 1011
        # (channels_redis#422, redis-py#4091).
        # max_connections: the pool is shared by every socket's receive loop and by fan-out
        # publishing; redis-py's default of 100 ran dry under load in bench/ (lost frames).
        # capacity: every socket of one ASGI process shares one Redis key, and the limit
        # applies to that key: a district notice puts one message per open socket of the
        # process in it at once. 1,500 dropped frames past 1,500 sockets per process;
        # messages still expire after 30 s if the process does not read them.
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": None, "max_connections": 1000}],
            "capacity": 20000,
            "expiry": 30,
        },
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000") or 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

PUSH_BACKEND = env("PUSH_BACKEND", "fcm")
SMS_PROVIDER = env("SMS_PROVIDER", "aliyun")
SMS_CALLBACK_TOKEN = required("SMS_CALLBACK_TOKEN")
SMS_PROVIDER_OPTIONS = {
    "access_key_id": env("ALIYUN_ACCESS_KEY_ID"),
    "access_key_secret": env("ALIYUN_ACCESS_KEY_SECRET"),
    "endpoint": env("ALIYUN_SMS_ENDPOINT", "dysmsapi.aliyuncs.com"),
}
os.environ.setdefault("CELERY_BROKER_URL", REDIS_URL)
