"""Celery app. The embedded default runs tasks eagerly in-process; production uses the
Redis broker with late acks (see CELERY_* in settings)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.embedded")

app = Celery("backend")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
