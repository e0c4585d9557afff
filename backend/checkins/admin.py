"""Admin pages for campaigns and check-ins: read-mostly, scoped to the schools the user
is a school admin of (bureau admins do not read children's check-ins).

Nothing is added or edited here (teachers do that in the app); an admin may close a
campaign and remove a check-in (content review), both through services and audited."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Checkin, CheckinCampaign, CheckinComment
from .selectors import campaign_access, school_admin_q
from .services import campaign_close, checkin_remove


class ScopedReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Rows of the user's schools only (platform superusers: all); no add, no edit."""

    school_path = "school__path"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if getattr(request.user, "is_superuser", False):
            return queryset
        return queryset.filter(school_admin_q(user=request.user, field=self.school_path))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CommentInline(admin.TabularInline[CheckinComment, Checkin]):
    model = CheckinComment
    extra = 0
    fields = ("author_name", "text", "created_at")
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "教师点评"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CheckinCampaign)
class CheckinCampaignAdmin(ScopedReadOnlyAdmin):
    list_display = (
        "id",
        "title",
        "school",
        "created_by_name",
        "start_date",
        "end_date",
        "makeup_days",
        "status",
    )
    list_filter = ("status",)
    search_fields = ("title", "created_by_name")
    date_hierarchy = "start_date"
    actions = ["close_campaigns"]
    list_select_related = ("school",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Check-ins belong to students; a campaign is closed, never deleted from here.
        return False

    def has_close_permission(self, request: HttpRequest) -> bool:
        # Closing is the one change allowed here; the form itself stays read-only.
        return bool(getattr(request.user, "has_perm", lambda _: False)("checkins.change_checkincampaign"))

    @admin.action(description="结束所选打卡活动", permissions=["close"])
    def close_campaigns(self, request: HttpRequest, queryset: QuerySet[CheckinCampaign]) -> None:
        closed = 0
        for campaign in queryset.select_related("school"):
            access = campaign_access(user=request.user, campaign=campaign)
            # Platform superusers act as admins of every school.
            access = replace(
                access, is_admin=access.is_admin or bool(getattr(request.user, "is_superuser", False))
            )
            if access.manages:
                campaign_close(actor=request.user, campaign=campaign, access=access)
                closed += 1
        self.message_user(request, f"已结束 {closed} 个打卡活动", messages.SUCCESS)


@admin.register(Checkin)
class CheckinAdmin(ScopedReadOnlyAdmin):
    school_path = "school_class__school__path"
    list_display = (
        "id",
        "campaign",
        "student",
        "school_class",
        "date",
        "is_makeup",
        "submitted_by_name",
        "created_at",
    )
    list_filter = ("is_makeup",)
    search_fields = ("campaign__title", "submitted_by_name", "text")
    date_hierarchy = "date"
    list_select_related = ("campaign", "student", "school_class")
    inlines = [CommentInline]

    def delete_model(self, request: HttpRequest, obj: Checkin) -> None:
        checkin_remove(actor=request.user, checkin=obj, reason="管理后台删除")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Checkin]) -> None:
        for checkin in queryset:
            checkin_remove(actor=request.user, checkin=checkin, reason="管理后台删除")
