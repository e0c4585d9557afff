"""Roster imports in the admin: the upload form runs the same service as the API and the
command; each import is a read-only record with its row-by-row report."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from backend.audit.services import client_ip
from backend.conventions.errors import ApiError
from backend.schools.models import Org, RosterImport
from backend.schools.roster import roster_import
from backend.schools.roster.reading import max_bytes
from backend.schools.selectors import schools_administered

from .forms import RosterUploadForm
from .scope import ScopedAdmin, is_platform_admin

STATUS_LABELS = {"created": "新增", "updated": "更新", "unchanged": "未变化", "rejected": "拒绝"}


def report_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "—"
    body = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
        (
            (
                row["row"],
                row.get("student_number", ""),
                STATUS_LABELS.get(row["status"], row["status"]),
                row["code"],
                row["message"],
            )
            for row in rows
        ),
    )
    return format_html(
        '<table class="roster-report"><thead><tr><th>行号</th><th>学号</th><th>结果</th>'
        "<th>代码</th><th>说明</th></tr></thead><tbody>{}</tbody></table>",
        body,
    )


def summary(record: RosterImport) -> str:
    return (
        f"《{record.file_name}》共 {record.total_rows} 行：新增 {record.created_count}，"
        f"更新 {record.updated_count}，未变化 {record.unchanged_count}，拒绝 {record.rejected_count}"
    )


@admin.register(RosterImport)
class RosterImportAdmin(ScopedAdmin):
    scope_field = "school__path"
    list_display = (
        "created_at",
        "school",
        "file_name",
        "status",
        "created_count",
        "updated_count",
        "unchanged_count",
        "rejected_count",
        "uploaded_by",
    )
    list_filter = ("status", "school")
    list_select_related = ("school", "uploaded_by")
    fields = (
        "school",
        "file_name",
        "file_format",
        "encoding",
        "status",
        "total_rows",
        ("created_count", "updated_count", "unchanged_count", "rejected_count"),
        "uploaded_by",
        "created_at",
        "finished_at",
        "report",
    )
    readonly_fields = (
        "school",
        "file_name",
        "file_format",
        "encoding",
        "status",
        "total_rows",
        "created_count",
        "updated_count",
        "unchanged_count",
        "rejected_count",
        "uploaded_by",
        "created_at",
        "finished_at",
        "report",
    )

    @admin.display(description="逐行结果")
    def report(self, obj: RosterImport) -> str:
        return report_table(obj.rows)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """The upload form. A real import redirects to its record; a preview is shown here."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if is_platform_admin(request):
            schools = Org.objects.filter(kind=Org.Kind.SCHOOL).order_by("name")
        else:
            schools = schools_administered(user=request.user).order_by("name")
        post = request.method == "POST"
        form = RosterUploadForm(
            request.POST if post else None, request.FILES if post else None, schools=schools
        )
        preview = None
        if post and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > max_bytes():
                    raise ApiError("file_too_large", f"文件超过 {max_bytes() // (1024 * 1024)} MB 上限")
                record = roster_import(
                    school=form.cleaned_data["school"],
                    uploaded_by=request.user,
                    file_name=upload.name or "roster",
                    content=upload.read(),
                    dry_run=form.cleaned_data["dry_run"],
                    ip=client_ip(request),
                )
            except ApiError as exc:
                form.add_error("file", f"{exc.message}（{exc.code}）")
            else:
                if record.pk is None:
                    preview = record
                else:
                    level = messages.WARNING if record.rejected_count else messages.SUCCESS
                    self.message_user(request, "导入完成：" + summary(record), level)
                    url = reverse("admin:schools_rosterimport_change", args=[record.pk])
                    return HttpResponseRedirect(url)
        context = {
            **self.admin_site.each_context(request),
            "title": "导入花名册",
            "opts": self.opts,
            "form": form,
            "preview": preview,
            "preview_summary": summary(preview) if preview else "",
            "preview_table": report_table(preview.rows) if preview else "",
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/schools/rosterimport/upload.html", context)
