"""JSON responses with every timestamp in the school's time zone.

Serializer fields already render datetimes in settings.TIME_ZONE (+08:00); views that
answer a plain dict (SMS jobs, some messaging answers) went through DRF's encoder, which
writes the database's UTC ("…Z"). Apps compare and display these strings, so one API
speaks one offset."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder


class LocalTimeJSONEncoder(JSONEncoder):
    def default(self, obj: Any) -> Any:
        if isinstance(obj, datetime.datetime) and timezone.is_aware(obj):
            return timezone.localtime(obj).isoformat()
        return super().default(obj)


class LocalTimeJSONRenderer(JSONRenderer):
    encoder_class = LocalTimeJSONEncoder
