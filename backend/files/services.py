"""Uploading and claiming attachments."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from backend.conventions.errors import ApiError
from backend.conventions.scope import MAX_ID

from .kinds import ALLOWED, matches_magic
from .models import File

MAX_ATTACHMENTS = 9


def file_upload(*, owner: Any, upload: UploadedFile) -> File:
    """Store an upload after checking its declared type, size and first bytes."""
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    allowed = ALLOWED.get(content_type)
    if allowed is None:
        raise ApiError(
            "unsupported_file_type", f"不支持的文件类型：{content_type or '未知'}", status_code=415
        )
    size = upload.size or 0
    if size == 0:
        raise ApiError("empty_file", "文件为空")
    if size > allowed.limit:
        raise ApiError(
            "file_too_large", f"文件过大（上限 {allowed.limit // (1024 * 1024)} MB）", status_code=413
        )
    head = upload.read(64)
    upload.seek(0)
    if not matches_magic(allowed, head):
        raise ApiError("file_content_mismatch", "文件内容与类型不符")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = (upload.name or "file")[-200:]
    return File.objects.create(
        owner=owner,
        kind=allowed.kind,
        content_type=content_type,
        name=name,
        size=size,
        sha256=digest.hexdigest(),
        blob=upload,
    )


def files_claim(*, ids: Iterable[int], owner: Any, allowed_kinds: set[str] | None = None) -> list[File]:
    """Check that `owner` uploaded every file in `ids` (and that their kinds are allowed)
    before attaching them to something; the whole list fails on one bad id."""
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if len(wanted) > MAX_ATTACHMENTS:
        raise ApiError("too_many_attachments", f"附件最多 {MAX_ATTACHMENTS} 个")
    files = {
        f.pk: f for f in File.objects.filter(pk__in=[i for i in wanted if 1 <= i <= MAX_ID], owner=owner)
    }
    missing = [i for i in wanted if i not in files]
    if missing:
        raise ApiError(
            "unknown_attachments",
            "附件不存在或不属于您",
            fields={"attachment_ids": [f"无效的附件：{i}" for i in missing]},
        )
    if allowed_kinds is not None:
        bad = [f for f in files.values() if f.kind not in allowed_kinds]
        if bad:
            raise ApiError(
                "attachment_type_not_allowed",
                "附件类型不被允许：" + "、".join(sorted({f.get_kind_display() for f in bad})),
            )
    return [files[i] for i in wanted]
