"""Read-only SMS records in the admin: ledger, jobs, texts, unsubscribes, replies."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from backend.sms.models import LedgerEntry, SmsJob, SmsMessage, SmsReply, SmsUnsubscribe
from backend.sms.services import sms_reply_mark_handled

from .scope import ScopedReadOnlyAdmin


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ScopedReadOnlyAdmin):
    list_display = (
        "created_at",
        "account",
        "kind",
        "segments",
        "held",
        "counterparty",
        "actor",
        "memo",
        "ref",
    )
    list_filter = ("kind", "account")
    search_fields = ("ref", "memo", "account__name")
    date_hierarchy = "created_at"
    list_select_related = ("account", "counterparty", "actor")


@admin.register(SmsJob)
class SmsJobAdmin(ScopedReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "account",
        "created_by",
        "template",
        "urgent",
        "total",
        "status",
        "not_before",
    )
    list_filter = ("status", "urgent", "account")
    search_fields = ("text", "created_by__name")
    date_hierarchy = "created_at"
    list_select_related = ("account", "created_by")
    readonly_fields = [f.name for f in SmsJob._meta.fields]


@admin.register(SmsMessage)
class SmsMessageAdmin(ScopedReadOnlyAdmin):
    list_display = (
        "id",
        "queued_at",
        "phone",
        "account",
        "source",
        "state",
        "billing",
        "segments",
        "error_code",
    )
    list_filter = ("state", "billing", "urgent", "account")
    search_fields = ("phone", "source", "biz_id")
    date_hierarchy = "queued_at"
    list_select_related = ("account",)
    readonly_fields = [f.name for f in SmsMessage._meta.fields]


@admin.register(SmsUnsubscribe)
class SmsUnsubscribeAdmin(ScopedReadOnlyAdmin):
    list_display = ("phone", "created_at", "account", "reply")
    search_fields = ("phone",)
    list_select_related = ("account", "reply")


@admin.register(SmsReply)
class SmsReplyAdmin(ScopedReadOnlyAdmin):
    list_display = ("received_at", "phone", "content", "account", "source", "routed_to", "handled")
    list_filter = ("handled", "routed_to", "account")
    search_fields = ("phone", "content")
    date_hierarchy = "received_at"
    list_select_related = ("account",)
    actions = ["mark_handled"]

    @admin.action(description="标记为已处理")
    def mark_handled(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        replies = list(queryset)
        for reply in replies:
            sms_reply_mark_handled(reply=reply, actor=request.user)
        self.message_user(request, f"已处理 {len(replies)} 条回复", messages.SUCCESS)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Needed for the action only; every field stays read-only.
        return self.has_module_permission(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in SmsReply._meta.fields]
