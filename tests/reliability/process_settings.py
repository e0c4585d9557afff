"""Settings of the processes the fault tests start (Celery workers, a daphne server): the
test settings on the test's own PostgreSQL database, plus what RELIABILITY_* variables
give: a real broker, a channel layer, the SMS simulator's address."""

from __future__ import annotations

import os

from backend.settings.test import *  # noqa: F403
from backend.settings.test import DATABASES

DATABASES["default"]["NAME"] = os.environ["RELIABILITY_DATABASE_NAME"]

if os.environ.get("RELIABILITY_BROKER_URL"):
    CELERY_TASK_ALWAYS_EAGER = False
    CELERY_TASK_EAGER_PROPAGATES = False
    CELERY_BROKER_URL = os.environ["RELIABILITY_BROKER_URL"]
    CELERY_RESULT_BACKEND = None
    # A killed worker's unacked task comes back after this (production: 12 h, where the
    # sweep's lost-task requeue is what brings texts back sooner).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("RELIABILITY_VISIBILITY_TIMEOUT", "3"))
    }

if os.environ.get("RELIABILITY_CHANNEL_LAYER_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": os.environ["RELIABILITY_CHANNEL_LAYER_URL"], "socket_timeout": None}],
                "prefix": "rel",
            },
        }
    }

if os.environ.get("RELIABILITY_SMS_ENDPOINT"):
    SMS_PROVIDER = "simulator"
    SMS_PROVIDER_OPTIONS = {
        "endpoint": os.environ["RELIABILITY_SMS_ENDPOINT"],
        "read_timeout": float(os.environ.get("RELIABILITY_SMS_READ_TIMEOUT", "60")),
    }
SMS_SUBMITTING_TIMEOUT_SECONDS = int(os.environ.get("RELIABILITY_SUBMITTING_TIMEOUT", "600"))
