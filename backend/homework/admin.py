"""Read-mostly admin pages for assignments and submissions.

School and bureau admins see only their subtree (backend.schools.selectors.admin_scope_q);
nothing is added or edited here: homework is written through the app, and closing an
assignment goes through the service so it is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from backend.schools.selectors import admin_scope_q

from .models import Assignment, Feedback, Submission
from .services import assignment_close


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    scope_field = ""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if getattr(request.user, "is_superuser", False):
            return queryset
        return queryset.filter(admin_scope_q(user=request.user, field=self.scope_field))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Content incidents (removing unlawful content) are for platform staff only.
        return bool(getattr(request.user, "is_superuser", False))


class FeedbackInline(admin.TabularInline[Feedback, Submission]):
    model = Feedback
    extra = 0
    can_delete = False
    fields = (
        "created_at",
        "teacher_name",
        "score",
        "grade",
        "comment",
        "excellent",
        "request_resubmit",
        "is_current",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    scope_field = "school__path"
    list_display = ("title", "subject", "author_name", "school", "due_at", "closed_at", "created_at")
    list_filter = ("subject", "grading")
    search_fields = ("title", "author_name")
    date_hierarchy = "created_at"
    actions = ["close_assignments"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("school")

    @admin.action(description="关闭所选作业（停止收交）", permissions=["change"])
    def close_assignments(self, request: HttpRequest, queryset: QuerySet[Assignment]) -> None:
        count = 0
        for assignment in queryset.filter(closed_at__isnull=True):
            assignment_close(assignment=assignment, actor=request.user)
            count += 1
        self.message_user(request, f"已关闭 {count} 份作业", messages.SUCCESS)


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    scope_field = "assignment__school__path"
    list_display = (
        "assignment",
        "student",
        "school_class",
        "version",
        "is_current",
        "late",
        "submitted_at",
        "feedback_at",
    )
    list_filter = ("late", "is_current")
    search_fields = ("assignment__title", "student__name")
    date_hierarchy = "submitted_at"
    inlines = [FeedbackInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("assignment", "student", "school_class")
