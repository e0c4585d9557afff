"""Settings shared by every mode. Everything that differs between machines comes from
the environment; nothing here is a production secret."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab

# Lets admin and querysets be subscripted (ModelAdmin[Notice]) at run time, for mypy.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "django_filters",
    "channels",
    "axes",
    "treebeard",
    "backend.conventions",
    "backend.audit",
    "backend.accounts",
    "backend.schools",
    "backend.realtime",
    "backend.sms",
    "backend.delivery",
    "backend.files",
    "backend.notices",
    "backend.checkins",
    "backend.homework",
    "backend.messaging",
    "backend.privacy",
    "backend.stats",
    "backend.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backend.urls"
ASGI_APPLICATION = "backend.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'jiaxiao.sqlite3'}") or "",
        conn_max_age=int(env("DB_CONN_MAX_AGE", "0") or 0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # AxesStandaloneBackend must come first so locked-out credentials never reach the next one.
    "axes.backends.AxesStandaloneBackend",
    "backend.accounts.auth_backends.LoginBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "backend" / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")) or "")

# JSON bodies over 1 MB are refused with 413 (files go through multipart uploads).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

REDIS_URL = env("REDIS_URL")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "backend.accounts.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["backend.conventions.rendering.LocalTimeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "backend.conventions.pagination.IdCursorPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "backend.conventions.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=10),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Jiaxiao Hub (家校通) mobile API",
    "DESCRIPTION": "The API behind the Jiaxiao Hub phone app. See mobile_api_docs/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Declared errors for every operation of a kind (401, 429, malformed JSON), public
    # operations marked as such, recorded examples merged in: backend/conventions/schema.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "backend.conventions.schema.postprocess_schema",
    ],
    "ENUM_NAME_OVERRIDES": {
        "NoticeStatusEnum": "backend.notices.models.Notice.Status",
        "SmsJobStatusEnum": "backend.sms.models.SmsJob.Status",
        "SmsMessageStatusEnum": "backend.sms.models.MessageState",
        "CheckinCampaignStatusEnum": "backend.checkins.models.CheckinCampaign.Status",
        "RosterImportStatusEnum": "backend.schools.models.RosterImport.Status",
        "PrivacyRequestStatusEnum": "backend.privacy.models.RequestStatus",
        "HomeworkWorkStatusEnum": "backend.homework.api.serializers.WORK_STATUSES",
        "HomeworkSubmissionStatusEnum": "backend.homework.api.serializers.SUBMISSION_STATUSES",
    },
}

# django-axes: 5 failures per account and per IP lock for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "backend.accounts.lockout.lockout_response"
AXES_USERNAME_FORM_FIELD = "login"
# The app posts `login`, the admin form `username`; both count per canonical login.
AXES_USERNAME_CALLABLE = "backend.accounts.auth_backends.axes_username"
# A fixed 15 minutes: trying during a lock does not restart the clock.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_VERBOSE = False

# Login codes sent by SMS.
SMS_LOGIN_CODE_TTL = timedelta(minutes=5)
SMS_LOGIN_CODE_LIMITS = {"minute": 1, "hour": 5, "day": 10}
SMS_LOGIN_CODE_IP_LIMITS = {"hour": 30, "day": 100}

# The realtime gateway.
REALTIME_TICKET_TTL = 30

# HTTP requests one ASGI process works on at once; the rest queue (as coroutines) for up
# to HTTP_QUEUE_SECONDS, then get 503 server_busy (backend/conventions/concurrency.py).
# Keep HTTP_CONCURRENCY + 6 (the sockets' read threads) within DB_POOL_MAX_SIZE.
HTTP_CONCURRENCY = int(env("HTTP_CONCURRENCY", "12") or 0)
HTTP_QUEUE_SECONDS = float(env("HTTP_QUEUE_SECONDS", "10") or 10)
REALTIME_ALLOWED_ORIGINS = env_list("REALTIME_ALLOWED_ORIGINS", "")

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Longer than any countdown we schedule (quiet hours hold items up to ~10 h).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 12 * 3600}
CELERY_BEAT_SCHEDULE = {
    # Release what quiet hours held; escalate unread items that need attention.
    "delivery-tick": {"task": "backend.delivery.tasks.delivery_tick", "schedule": 60.0},
    # Submit queued texts, reconcile ambiguous ones, give up on reports after 72 h.
    "sms-sweep": {"task": "backend.sms.tasks.sms_sweep", "schedule": 60.0},
    # Publish scheduled notices; resume a fan-out whose worker died.
    "notices-publish-due": {"task": "backend.notices.tasks.notices_publish_due", "schedule": 60.0},
    # Remind students (and guardians) who have not checked in by the campaign's time.
    "checkins-reminders": {"task": "backend.checkins.tasks.checkins_remind_due", "schedule": 60.0},
    # Check-ins whose announcement batch was lost (Redis restarted, a worker died).
    "checkins-announce-overdue": {
        "task": "backend.checkins.tasks.checkins_announce_overdue",
        "schedule": 60.0,
    },
    # Teachers get one push when office hours start for guardians' messages left unread.
    "messaging-office-hours": {
        "task": "backend.messaging.tasks.messaging_release_office_hours",
        "schedule": 60.0,
    },
    # Usage scores (seed 003): rescore last week and this week every hour.
    "stats-compute-recent": {
        "task": "backend.stats.tasks.stats_compute_recent",
        "schedule": crontab(minute=7),
    },
    # Blacklisted and outstanding refresh tokens past their expiry.
    "accounts-flush-expired-tokens": {
        "task": "backend.accounts.tasks.accounts_flush_expired_tokens",
        "schedule": crontab(hour=3, minute=17),
    },
    # The daily summary for people who asked for digests instead of instant pushes.
    "delivery-digests": {
        "task": "backend.delivery.tasks.delivery_send_digests",
        "schedule": crontab(hour=19, minute=30),
    },
}

# Push: "console" (embedded default), "memory" (tests) or "fcm" (firebase-admin).
PUSH_BACKEND = env("PUSH_BACKEND", "console")
FCM_CREDENTIALS_FILE = env("FCM_CREDENTIALS_FILE")
FCM_PROJECT_ID = env("FCM_PROJECT_ID")
FCM_ENDPOINT = env("FCM_ENDPOINT")
FCM_HTTP_TIMEOUT = float(env("FCM_HTTP_TIMEOUT", "10") or 10)
FCM_CONCURRENCY = int(env("FCM_CONCURRENCY", "500") or 500)  # push requests in flight per process
# Push requests started per second per process: keep processes × this ≤ FCM's 10,000/s.
FCM_MAX_PER_SECOND = float(env("FCM_MAX_PER_SECOND", "4000") or 4000)

# The outgoing SMS provider used for login codes and notices (see backend/sms).
# PIPL art. 28/31: a student's data is processed only after a guardian's consent.
PRIVACY_ENFORCE_CONSENT = True

SMS_PROVIDER = env("SMS_PROVIDER", "console")
SMS_SIGN_NAME = env("SMS_SIGN_NAME", "【家校通】") or "【家校通】"
# Provider template codes per platform template name (Aliyun "SMS_…" codes), e.g. from env.
SMS_TEMPLATE_CODES: dict[str, str] = {
    name: code for name, code in (("login_code", env("SMS_TEMPLATE_LOGIN_CODE")),) if code
}
SMS_PROVIDER_OPTIONS: dict[str, object] = {}
# Provider webhooks (delivery reports, replies) must carry this token; empty refuses all.
SMS_CALLBACK_TOKEN = env("SMS_CALLBACK_TOKEN", "") or ""
SMS_CALLBACK_IPS = env_list("SMS_CALLBACK_IPS")
SMS_SEGMENT_PRICE = env("SMS_SEGMENT_PRICE", "0.045")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}
