"""Input and output shapes of the realtime REST endpoints."""

from __future__ import annotations

from rest_framework import serializers

from backend.realtime.frames import MAX_SEQ

MAX_EVENTS_PAGE = 500


class EventsQueryInput(serializers.Serializer):
    after_seq = serializers.IntegerField(
        min_value=0, max_value=MAX_SEQ, default=0, help_text="上次收到的序号"
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_EVENTS_PAGE, default=100, help_text="每页条数"
    )


class EventFrameOutput(serializers.Serializer):
    type = serializers.CharField(help_text="事件类型，如 notice.created")
    seq = serializers.IntegerField(help_text="本用户的事件序号，逐一递增、不重复")
    ts = serializers.DateTimeField(help_text="ISO 8601，+08:00")
    data = serializers.JSONField()  # type: ignore[assignment]  # DRF moves declared fields off the class


class EventsPageOutput(serializers.Serializer):
    results = EventFrameOutput(many=True)
    next = serializers.URLField(allow_null=True)
    last_seq = serializers.IntegerField(help_text="下次请求用的 after_seq")


class TicketOutput(serializers.Serializer):
    ticket = serializers.CharField(help_text="一次性票据，用于 /ws/v1/events/?ticket=")
    expires_in = serializers.IntegerField(help_text="有效秒数")
