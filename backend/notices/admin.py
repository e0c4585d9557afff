from __future__ import annotations

from django.contrib import admin

from .models import Notice, NoticeReceipt


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin[Notice]):
    list_display = ("id", "title", "author_name", "target_label", "status", "urgent", "published_at")
    list_filter = ("status", "urgent", "require_confirmation", "scope")
    search_fields = ("title", "author_name", "target_label")
    raw_id_fields = ("author", "org", "school", "recalled_by")
    readonly_fields = ("recipients_count", "read_count", "confirmed_count", "fanout_cursor", "recall_cursor")


@admin.register(NoticeReceipt)
class NoticeReceiptAdmin(admin.ModelAdmin[NoticeReceipt]):
    list_display = ("id", "notice", "display_name", "role", "read_at", "confirmed_at")
    list_filter = ("role",)
    raw_id_fields = ("notice", "recipient")
