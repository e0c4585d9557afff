"""Privacy endpoints: the policy text, guardian consents, family data export and deletion."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.audit.services import audit_record, client_ip
from backend.conventions.errors import not_found
from backend.conventions.schema import error_responses
from backend.conventions.scope import get_in_scope
from backend.privacy.models import DataExport, RequestStatus
from backend.privacy.policy import POLICY_SUMMARY, POLICY_TITLE, POLICY_VERSION
from backend.privacy.selectors import consents_of_guardian, deletions_of_user, exports_of_user
from backend.privacy.services import consent_grant, consent_withdraw, deletion_request, export_request

from .serializers import (
    ConsentInput,
    ConsentOutput,
    DeletionInput,
    DeletionOutput,
    ExportOutput,
    PolicyOutput,
    deletion_data,
    export_download_token_check,
)

TAGS = ["privacy"]
DOWNLOAD_TTL = timedelta(hours=24)


class PolicyView(APIView):
    @extend_schema(
        operation_id="privacy_policy",
        summary="儿童个人信息保护规则 / Children's data policy",
        description=(
            "The current policy text guardians consent to, with its version.\n\n"
            "Errors: 401 not_authenticated."
        ),
        responses={200: PolicyOutput},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        body = {"version": POLICY_VERSION, "title": POLICY_TITLE, "summary": POLICY_SUMMARY}
        return Response(PolicyOutput(body).data)


class ConsentCollectionView(APIView):
    @extend_schema(
        operation_id="privacy_consents_list",
        summary="我的同意记录 / My consents",
        description=(
            "The caller's consents as a guardian, newest first, withdrawn ones included.\n\n"
            "Errors: 401 not_authenticated."
        ),
        responses={200: ConsentOutput(many=True)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        rows = consents_of_guardian(user=request.user)
        return Response(ConsentOutput(rows, many=True).data)

    @extend_schema(
        operation_id="privacy_consents_create",
        summary="同意处理孩子的信息 / Consent for my child",
        description=(
            "A guardian consents to the processing of their child's data under the current "
            "policy version: 201 new, 200 when a live consent already exists.\n\n"
            "Errors: 400 invalid, invalid_scope, policy_version_outdated; 404 student_not_found "
            "(not the caller's child)."
        ),
        request=ConsentInput,
        responses={
            200: ConsentOutput,
            201: ConsentOutput,
            **error_responses("400 invalid invalid_scope policy_version_outdated", "404 student_not_found"),
        },
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = ConsentInput(data=request.data)
        data.is_valid(raise_exception=True)
        consent, created = consent_grant(guardian=request.user, ip=client_ip(request), **data.validated_data)
        return Response(ConsentOutput(consent).data, status=201 if created else 200)


class ConsentWithdrawView(APIView):
    @extend_schema(
        operation_id="privacy_consents_withdraw",
        summary="撤回同意 / Withdraw a consent",
        description=(
            "Withdraw one of the caller's consents (idempotent). The child's new check-ins and "
            "homework are refused until a guardian consents again, and their check-ins leave "
            "class-wide views.\n\nErrors: 404 not_found."
        ),
        request=None,
        responses={200: ConsentOutput, **error_responses("404 not_found")},
        tags=TAGS,
    )
    def post(self, request: Request, consent_id: str) -> Response:
        consent = get_in_scope(consents_of_guardian(user=request.user), consent_id, "同意记录不存在")
        consent = consent_withdraw(consent=consent, actor=request.user, ip=client_ip(request))
        return Response(ConsentOutput(consent).data)


class ExportCollectionView(APIView):
    @extend_schema(
        operation_id="privacy_exports_create",
        summary="导出家庭数据 / Export my family's data",
        description=(
            "Queue a ZIP of the caller's and their children's data (one JSON file per area). "
            "202 with the export; poll GET privacy/exports/{id}/.\n\n"
            "Errors: 401 not_authenticated."
        ),
        request=None,
        responses={202: ExportOutput},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        export = export_request(user=request.user, ip=client_ip(request))
        export.refresh_from_db()
        return Response(ExportOutput(export).data, status=202)


class ExportDetailView(APIView):
    @extend_schema(
        operation_id="privacy_exports_retrieve",
        summary="导出状态 / Export status",
        description=(
            "Status of one of the caller's exports; when ready, a signed download URL valid "
            "for 24 hours.\n\nErrors: 404 not_found."
        ),
        responses={200: ExportOutput, **error_responses("404 not_found")},
        tags=TAGS,
    )
    def get(self, request: Request, export_id: str) -> Response:
        export = get_in_scope(exports_of_user(user=request.user), export_id, "导出记录不存在")
        return Response(ExportOutput(export).data)


class ExportDownloadView(APIView):
    """The signed URL is the permission (like the attachments' download URLs)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="privacy_exports_download",
        summary="下载导出文件 / Download an export",
        responses={200: OpenApiResponse(description="ZIP 文件"), **error_responses("404 not_found")},
        tags=TAGS,
    )
    def get(self, request: HttpRequest, token: str) -> FileResponse:
        export_id = export_download_token_check(token, max_age=int(DOWNLOAD_TTL.total_seconds()))
        export = (
            DataExport.objects.filter(pk=export_id, status=RequestStatus.READY).first() if export_id else None
        )
        if export is None or not export.expires_at or export.expires_at <= timezone.now():
            raise not_found("导出文件不存在或链接已过期")
        audit_record(
            action="privacy.export_downloaded",
            actor_label=f"用户#{export.requested_by_id}",
            obj=export,
            request=request,
        )
        response = FileResponse(default_storage.open(export.file_path, "rb"), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="jiaxiao-export-{export.pk}.zip"'
        response["Cache-Control"] = "private, no-store"
        return response


class DeletionCollectionView(APIView):
    @extend_schema(
        operation_id="privacy_deletions_create",
        summary="删除家庭数据 / Delete my family's data",
        description=(
            "Queue the erasure of the given children (all of the caller's when omitted), and of "
            'the caller when no child is left. `confirm` must be "删除". 202 with the request.\n\n'
            "Errors: 400 invalid, confirmation_required; 404 student_not_found."
        ),
        request=DeletionInput,
        responses={
            202: DeletionOutput,
            **error_responses("400 invalid confirmation_required", "404 student_not_found"),
        },
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = DeletionInput(data=request.data)
        data.is_valid(raise_exception=True)
        deletion = deletion_request(user=request.user, ip=client_ip(request), **data.validated_data)
        deletion.refresh_from_db()
        return Response(DeletionOutput(deletion_data(deletion)).data, status=202)


class DeletionDetailView(APIView):
    @extend_schema(
        operation_id="privacy_deletions_retrieve",
        summary="删除进度 / Deletion status",
        description="Status of one of the caller's deletion requests.\n\nErrors: 404 not_found.",
        responses={200: DeletionOutput, **error_responses("404 not_found")},
        tags=TAGS,
    )
    def get(self, request: Request, deletion_id: str) -> Response:
        deletion = get_in_scope(deletions_of_user(user=request.user), deletion_id, "删除记录不存在")
        return Response(DeletionOutput(deletion_data(deletion)).data)
