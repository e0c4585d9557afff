from __future__ import annotations

from rest_framework import serializers

from backend.files.models import File


class FileOutput(serializers.Serializer):
    """An attachment as every app renders it (backend.files.selectors.file_payloads)."""

    id = serializers.IntegerField()
    url = serializers.CharField(help_text="签名下载地址，1 小时内有效")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=File.Kind.choices)
