from __future__ import annotations

from django.conf import settings
from django.db import models


class File(models.Model):
    """An uploaded attachment (image, voice, video or document). Downloads go through
    signed, time-limited URLs handed out only to people who may see the parent object."""

    class Kind(models.TextChoices):
        IMAGE = "image", "图片"
        VOICE = "voice", "语音"
        VIDEO = "video", "视频"
        FILE = "file", "文件"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    content_type = models.CharField(max_length=100)
    name = models.CharField("文件名", max_length=200)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    blob = models.FileField(upload_to="uploads/%Y/%m/")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.name
