"""schools/{school_id}/roster-imports/: school admins import class rosters (花名册)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.audit.services import client_ip
from backend.conventions.errors import ApiError
from backend.conventions.pagination import IdCursorPagination
from backend.conventions.schema import error_responses
from backend.conventions.scope import get_in_scope
from backend.schools.models import Org
from backend.schools.roster import RosterFileError, roster_import
from backend.schools.roster.reading import max_bytes
from backend.schools.selectors import roster_imports_of_school, schools_administered

from .serializers import RosterImportOutput, RosterImportSummaryOutput

ERRORS = (
    "Errors (the file as a whole; nothing is written, no import is recorded): 400 "
    "`file_required`, `empty_file`, `file_too_large` (over 5 MB), `too_many_rows` (over 5,000), "
    "`unsupported_format` (not XLSX/CSV, e.g. an old .xls), `invalid_file` (damaged), "
    "`missing_columns` (`fields.columns` lists them), `duplicate_columns`; 401 not_authenticated; "
    "404 not_found (no such school, or the caller is not its school admin or a bureau admin "
    "above it).\n\n"
    "Rejected rows do not fail the request; each row reports one of: invalid_phone, "
    "unknown_class, unknown_relation, duplicate_row, inconsistent_student, missing_field, "
    "field_too_long, invalid_student_number, student_number_conflict, student_name_mismatch, "
    "phone_is_student, account_inactive, conflict."
)


def _school(request: Request, school_id: str) -> Org:
    return get_in_scope(schools_administered(user=request.user), school_id, "学校不存在")


class RosterUploadInput(serializers.Serializer):
    file = serializers.FileField(
        help_text="XLSX 或 CSV（UTF-8 / GBK），表头：学生姓名、学号、班级、家长姓名、关系、手机号"
    )


class RosterImportCollectionView(APIView):
    parser_classes = [MultiPartParser, FormParser]
    # Read by the GET handler and by drf-spectacular (the list's paginated schema).
    pagination_class = IdCursorPagination

    @extend_schema(
        operation_id="roster_imports_list",
        summary="花名册导入记录 / Roster imports of a school",
        description="Newest first, with counts (rows in the detail).\n\nErrors: 401; 404 not_found.",
        responses={200: RosterImportSummaryOutput(many=True), **error_responses("404 not_found")},
        tags=["schools"],
    )
    def get(self, request: Request, school_id: str) -> Response:
        school = _school(request, school_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            roster_imports_of_school(school=school).select_related("school"), request, view=self
        )
        return paginator.get_paginated_response(RosterImportSummaryOutput(page, many=True).data)

    @extend_schema(
        operation_id="roster_imports_create",
        summary="导入花名册 / Import a class roster",
        description=(
            "Multipart `file`: XLSX or CSV with the header 学生姓名, 学号, 班级, 家长姓名, 关系, 手机号 "
            "(or student_name, student_number, class, guardian_name, relation, phone), in any "
            "order, on the first worksheet; blank rows are skipped. Each row creates or updates the student, their class (moving them if it "
            "changed), the guardian and the link; each row applies whole or not at all. "
            "Re-importing a file changes nothing (every row `unchanged`). Classes must exist. "
            "Answers 201 with counts and one result per row. `?dry_run=1` validates and reports "
            "what would happen, writes nothing and answers 200 with `id` null.\n\n" + ERRORS
        ),
        parameters=[OpenApiParameter("dry_run", bool, required=False, description="预览，不写入")],
        request={"multipart/form-data": RosterUploadInput},
        responses={
            201: RosterImportOutput,
            200: RosterImportOutput,
            **error_responses(
                "400 file_required empty_file file_too_large too_many_rows unsupported_format invalid_file missing_columns duplicate_columns",
                "404 not_found",
            ),
        },
        tags=["schools"],
    )
    def post(self, request: Request, school_id: str) -> Response:
        school = _school(request, school_id)
        upload = request.FILES.get("file")
        if upload is None:
            raise ApiError("file_required", "请上传花名册文件（字段 file）", fields={"file": ["必填"]})
        if upload.size is not None and upload.size > max_bytes():
            raise RosterFileError("file_too_large", f"文件超过 {max_bytes() // (1024 * 1024)} MB 上限")
        dry_run = request.query_params.get("dry_run", "").lower() in {"1", "true", "yes"}
        result = roster_import(
            school=school,
            uploaded_by=request.user,
            file_name=upload.name or "roster",
            content=upload.read(),
            dry_run=dry_run,
            ip=client_ip(request._request),
        )
        return Response(
            RosterImportOutput(result).data,
            status=status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED,
        )


class RosterImportDetailView(APIView):
    @extend_schema(
        operation_id="roster_imports_retrieve",
        summary="花名册导入结果 / One roster import with its row report",
        description="Errors: 401; 404 not_found (unknown import, or a school the caller does not administer).",
        responses={200: RosterImportOutput, **error_responses("404 not_found")},
        tags=["schools"],
    )
    def get(self, request: Request, school_id: str, import_id: str) -> Response:
        school = _school(request, school_id)
        record = get_in_scope(roster_imports_of_school(school=school), import_id, "导入记录不存在")
        return Response(RosterImportOutput(record).data)
