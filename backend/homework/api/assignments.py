"""assignments/: assign, list, read, edit, close, remind, showcase (优秀作业)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.conventions.errors import ApiError
from backend.conventions.idempotency import idempotent
from backend.conventions.pagination import IdCursorPagination, page_of
from backend.conventions.schema import error_responses
from backend.conventions.scope import get_in_scope, parse_id
from backend.homework.models import Assignment
from backend.homework.selectors import (
    Viewer,
    assignment_class_ids,
    assignments_authored,
    assignments_visible,
    excellent_submissions,
    viewer_get,
)
from backend.homework.services import (
    assignment_close,
    assignment_create,
    assignment_remind,
    assignment_update,
)
from backend.privacy.selectors import privacy_hide_withdrawn

from .presenting import assignment_rows, excellent_rows
from .serializers import AssignmentOutput, AssignmentRemindOutput, ExcellentWorkOutput

NOT_FOUND = "作业不存在"
TAG = ["homework"]


def _ids(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=serializers.IntegerField(min_value=1), **kwargs)


def visible_assignment(viewer: Viewer, assignment_id: str) -> Assignment:
    return get_in_scope(assignments_visible(viewer=viewer), assignment_id, NOT_FOUND)


def assignment_response(assignment: Assignment, viewer: Viewer, status_code: int = 200) -> Response:
    return Response(AssignmentOutput(assignment_rows([assignment], viewer)[0]).data, status=status_code)


class AssignmentCollectionView(APIView):
    class AssignmentCreateInput(serializers.Serializer):
        class_ids = _ids(allow_empty=False, max_length=50)
        subject = serializers.CharField(max_length=32)
        title = serializers.CharField(max_length=100)
        instructions = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
        attachment_ids = _ids(required=False, default=list, max_length=9)
        due_at = serializers.DateTimeField()
        submission_types = serializers.ListField(
            child=serializers.ChoiceField(choices=Assignment.SubmissionType.choices), allow_empty=False
        )
        grading = serializers.ChoiceField(choices=Assignment.Grading.choices)
        max_score = serializers.IntegerField(
            required=False, allow_null=True, help_text="按分数批改时必填，1–1000"
        )
        grade_scale = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="按等级批改时必填：A-E 或 优良中差"
        )
        allow_resubmit = serializers.BooleanField(required=False, default=False)

    Input = AssignmentCreateInput

    @extend_schema(
        operation_id="assignments_list",
        summary="作业列表 / Assignments",
        description=(
            "Assignments of the caller's classes, newest first: a teacher's with `stats` over the "
            "classes they teach; a student's or guardian's with `my_submissions` (each child's "
            "status); an admin's (their subtree) with `stats`. `?class_id=` narrows to one class.\n\n"
            "Errors: 400 invalid_class_id; 401 not_authenticated."
        ),
        parameters=[OpenApiParameter("class_id", int, required=False)],
        responses={200: page_of(AssignmentOutput), **error_responses("400 invalid_class_id")},
        tags=TAG,
    )
    def get(self, request: Request) -> Response:
        viewer = viewer_get(user=request.user)
        assignments = assignments_visible(viewer=viewer)
        class_id = request.query_params.get("class_id")
        if class_id:
            class_key = parse_id(class_id)
            if class_key is None:
                raise ApiError("invalid_class_id", "class_id 需为班级编号")
            assignments = assignments.filter(class_links__school_class_id=class_key)
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(assignments, request, view=self) or []
        return paginator.get_paginated_response(
            AssignmentOutput(assignment_rows(page, viewer), many=True).data
        )

    @extend_schema(
        operation_id="assignments_create",
        summary="布置作业 / Assign homework",
        description=(
            "A teacher assigns homework to classes they teach (one school). Students and their "
            "guardians receive `homework.assigned` (realtime, and a push when offline; never an "
            "SMS: homework is the student's, parents are not its messengers). Honours "
            "`Idempotency-Key` (a retry answers 200 with the first result).\n\n"
            "Errors: 400 invalid, unknown_ids (a class the caller does not teach), "
            "classes_in_different_schools, due_in_past, invalid_submission_types, "
            "invalid_max_score, invalid_grade_scale, unknown_attachments, too_many_attachments; "
            "409 idempotency_key_reused; 401 not_authenticated."
        ),
        request=Input,
        responses={
            201: AssignmentOutput,
            200: AssignmentOutput,
            **error_responses(
                "400 invalid unknown_ids classes_in_different_schools due_in_past invalid_submission_types invalid_max_score invalid_grade_scale unknown_attachments too_many_attachments invalid_idempotency_key",
                "409 idempotency_key_reused",
            ),
        },
        tags=TAG,
    )
    def post(self, request: Request) -> Response:
        def create() -> Response:
            data = self.Input(data=request.data)
            data.is_valid(raise_exception=True)
            assignment = assignment_create(author=request.user, **data.validated_data)
            viewer = viewer_get(user=request.user)
            created = get_in_scope(assignments_visible(viewer=viewer), assignment.pk, NOT_FOUND)
            return assignment_response(created, viewer, status.HTTP_201_CREATED)

        return idempotent(request, create)


class AssignmentDetailView(APIView):
    class AssignmentUpdateInput(serializers.Serializer):
        subject = serializers.CharField(max_length=32, required=False)
        title = serializers.CharField(max_length=100, required=False)
        instructions = serializers.CharField(max_length=5000, allow_blank=True, required=False)
        attachment_ids = _ids(required=False, max_length=9)
        due_at = serializers.DateTimeField(required=False)
        submission_types = serializers.ListField(
            child=serializers.ChoiceField(choices=Assignment.SubmissionType.choices),
            allow_empty=False,
            required=False,
        )
        allow_resubmit = serializers.BooleanField(required=False)

    Input = AssignmentUpdateInput

    FIXED = ("class_ids", "grading", "max_score", "grade_scale")

    @extend_schema(
        operation_id="assignments_retrieve",
        summary="作业详情 / An assignment",
        description=(
            "The assignment with attachments; `stats` {students, submitted, missing, late, "
            "uncorrected} for a teacher (over the classes they teach) or an admin; "
            "`my_submissions` for a student or guardian.\n\n"
            "Errors: 401 not_authenticated; 404 not_found (no such assignment or not in the "
            "caller's classes)."
        ),
        responses={200: AssignmentOutput, **error_responses("404 not_found")},
        tags=TAG,
    )
    def get(self, request: Request, assignment_id: str) -> Response:
        viewer = viewer_get(user=request.user)
        return assignment_response(visible_assignment(viewer, assignment_id), viewer)

    @extend_schema(
        operation_id="assignments_partial_update",
        summary="修改作业 / Edit an assignment",
        description=(
            "The author edits an open assignment before its due time: subject, title, "
            "instructions, attachment_ids, due_at, submission_types, allow_resubmit. Classes and "
            "grading cannot change once assigned. No new event is sent.\n\n"
            "Errors: 400 invalid, field_not_editable, due_in_past, invalid_submission_types, "
            "unknown_attachments; 404 not_found (not the caller's assignment); 409 "
            "assignment_closed, assignment_past_due; 401 not_authenticated."
        ),
        request=Input,
        responses={
            200: AssignmentOutput,
            **error_responses(
                "400 invalid field_not_editable due_in_past invalid_submission_types unknown_attachments",
                "404 not_found",
                "409 assignment_closed assignment_past_due",
            ),
        },
        tags=TAG,
    )
    def patch(self, request: Request, assignment_id: str) -> Response:
        viewer = viewer_get(user=request.user)
        assignment = get_in_scope(assignments_authored(viewer=viewer), assignment_id, NOT_FOUND)
        fixed = [name for name in self.FIXED if name in request.data]
        if fixed:
            raise ApiError(
                "field_not_editable",
                "布置后不能修改班级和评分方式",
                fields={name: ["布置后不能修改"] for name in fixed},
            )
        data = self.Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        assignment_update(assignment=assignment, actor=request.user, changes=data.validated_data)
        return assignment_response(visible_assignment(viewer, assignment_id), viewer)


class AssignmentCloseView(APIView):
    @extend_schema(
        operation_id="assignments_close",
        summary="关闭作业 / Close an assignment",
        description=(
            "The author stops taking submissions (late work is accepted until then). Idempotent.\n\n"
            "Errors: 401 not_authenticated; 404 not_found (not the caller's assignment)."
        ),
        request=None,
        responses={200: AssignmentOutput, **error_responses("404 not_found")},
        tags=TAG,
    )
    def post(self, request: Request, assignment_id: str) -> Response:
        viewer = viewer_get(user=request.user)
        assignment = get_in_scope(assignments_authored(viewer=viewer), assignment_id, NOT_FOUND)
        assignment_close(assignment=assignment, actor=request.user)
        return assignment_response(visible_assignment(viewer, assignment_id), viewer)


class AssignmentRemindView(APIView):
    @extend_schema(
        operation_id="assignments_remind",
        summary="提醒未交 / Remind students who have not submitted",
        description=(
            "A teacher of the assignment's classes reminds the students of the classes they "
            "teach who have not submitted, and their guardians, by push (no SMS). Answers how "
            "many people were reminded.\n\n"
            "Errors: 401 not_authenticated; 404 not_found (not a teacher of its classes); 409 "
            "assignment_closed."
        ),
        request=None,
        responses={200: AssignmentRemindOutput, **error_responses("404 not_found", "409 assignment_closed")},
        tags=TAG,
    )
    def post(self, request: Request, assignment_id: str) -> Response:
        viewer = viewer_get(user=request.user)
        assignment = visible_assignment(viewer, assignment_id)
        classes = viewer.teacher_classes(assignment_class_ids(assignment))
        if not classes:
            raise ApiError("not_found", NOT_FOUND, status_code=404)
        reminded = assignment_remind(assignment=assignment, actor=request.user, class_ids=classes)
        return Response(AssignmentRemindOutput({"reminded": reminded}).data)


class AssignmentExcellentView(APIView):
    @extend_schema(
        operation_id="assignments_excellent",
        summary="优秀作业 / Showcased work",
        description=(
            "Work the teacher marked 优秀作业, shown to the class only when the school allows it "
            "(class visibility); students' names only when the school allows names in public, "
            'otherwise "同学A", "同学B"…. No scores or comments. Each caller sees the classes '
            "they teach, attend or have a child in. Not paginated (`next` is null).\n\n"
            "Errors: 401 not_authenticated; 404 not_found, class_visibility_off (the school "
            "keeps feedback private)."
        ),
        responses={
            200: page_of(ExcellentWorkOutput),
            **error_responses("404 not_found class_visibility_off"),
        },
        tags=TAG,
    )
    def get(self, request: Request, assignment_id: str) -> Response:
        viewer = viewer_get(user=request.user)
        assignment = visible_assignment(viewer, assignment_id)
        school = assignment.school
        if not school.allow_class_visibility:
            raise ApiError("class_visibility_off", "学校未开启优秀作业展示", status_code=404)
        classes = assignment_class_ids(assignment)
        if not viewer.administers(school):
            mine = {c for s in viewer.students_in(classes) for c in s.class_ids}
            classes = sorted((mine | viewer.taught_class_ids) & set(classes))
        rows = excellent_rows(
            list(privacy_hide_withdrawn(excellent_submissions(assignment=assignment, class_ids=classes))),
            names_public=school.allow_names_public,
            viewer=viewer,
        )
        return Response({"results": ExcellentWorkOutput(rows, many=True).data, "next": None})
