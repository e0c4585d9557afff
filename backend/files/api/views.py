from __future__ import annotations

from django.http import FileResponse, HttpRequest
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.conventions.errors import ApiError, not_found
from backend.conventions.schema import error_responses
from backend.files.api.serializers import FileOutput
from backend.files.models import File
from backend.files.selectors import download_token_check, file_payloads
from backend.files.services import file_upload


class FileIn(serializers.Serializer):
    file = serializers.FileField()


class FileUploadView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="上传附件 / Upload an attachment",
        description=(
            "图片 ≤10 MB（jpeg/png/webp/heic）、语音 ≤5 MB、视频 ≤50 MB、文档 ≤20 MB。"
            "错误码：unsupported_file_type (415)、file_too_large (413)、empty_file、file_content_mismatch、invalid。"
        ),
        request={"multipart/form-data": FileIn},
        responses={
            201: FileOutput,
            **error_responses(
                "400 invalid empty_file file_content_mismatch",
                "413 file_too_large",
                "415 unsupported_file_type",
            ),
        },
        tags=["files"],
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise ApiError("invalid", "请选择要上传的文件", fields={"file": ["必填"]})
        stored = file_upload(owner=request.user, upload=upload)
        return Response(file_payloads(ids=[stored.pk])[stored.pk], status=201)


class FileDownloadView(APIView):
    """Anyone holding a fresh signed URL may download: the URL is the permission, handed
    out only with objects the caller may see (like an object-storage presigned URL)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="下载附件 / Download an attachment",
        responses={200: OpenApiResponse(description="文件内容"), **error_responses("404 not_found")},
        tags=["files"],
    )
    def get(self, request: HttpRequest, token: str) -> FileResponse:
        file_id = download_token_check(token)
        stored = File.objects.filter(pk=file_id).first() if file_id else None
        if stored is None:
            raise not_found("文件不存在或链接已过期")
        response = FileResponse(stored.blob.open("rb"), content_type=stored.content_type)
        response["Content-Disposition"] = "inline"
        response["Cache-Control"] = "private, max-age=3600"
        return response
