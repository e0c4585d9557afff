"""Submissions: submit, the class roster of an assignment, one version, feedback."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.conventions.errors import ApiError
from backend.conventions.pagination import IdCursorPagination, page_of
from backend.conventions.schema import error_responses
from backend.conventions.scope import get_in_scope
from backend.homework.selectors import (
    ROSTER_STATES,
    Viewer,
    assignment_class_ids,
    assignment_roster,
    current_feedback_prefetch,
    submission_versions,
    submissions_correctable,
    submissions_visible,
    viewer_get,
)
from backend.homework.services import feedback_give, submission_create
from backend.privacy.services import privacy_audit_read

from .assignments import TAG, visible_assignment
from .presenting import roster_rows, submission_detail
from .serializers import AssignmentRosterRowOutput, SubmissionDetailOutput

NOT_FOUND = "作业提交不存在"


class RosterPagination(IdCursorPagination):
    """Students in roster order (membership id), stable while work comes in."""

    ordering = "id"
    page_size = 50


def _valid(serializer: serializers.Serializer, codes: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """Validated data; a malformed field named in `codes` answers with its own error code."""
    if not serializer.is_valid():
        for name, (code, message) in codes.items():
            if name in serializer.errors:
                raise ApiError(code, message, fields={name: [str(e) for e in serializer.errors[name]]})
        raise serializers.ValidationError(serializer.errors)
    return dict(serializer.validated_data)


def _detail_response(submission_id: object, viewer: Viewer, status_code: int = 200) -> Response:
    submission = get_in_scope(
        submissions_visible(viewer=viewer).prefetch_related(current_feedback_prefetch()),
        submission_id,
        NOT_FOUND,
    )
    row = submission_detail(submission, submission_versions(submission=submission))
    return Response(SubmissionDetailOutput(row).data, status=status_code)


class SubmissionCollectionView(APIView):
    class SubmissionCreateInput(serializers.Serializer):
        student_id = serializers.IntegerField(min_value=1)
        text = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
        attachment_ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=9
        )
        client_id = serializers.CharField(max_length=64, help_text="客户端生成的编号；重试时不变")

    Input = SubmissionCreateInput

    @extend_schema(
        operation_id="assignments_submissions_list",
        summary="作业提交情况 / Work on an assignment",
        description=(
            "One row per student with the current version of their work: a teacher sees the "
            "students of the classes they teach; a student only themselves; a guardian only "
            "their own children. `?state=submitted|missing|late|uncorrected` filters (missing: "
            "students with no work). Roster order, cursor-paginated.\n\n"
            "Errors: 400 invalid_state; 401 not_authenticated; 404 not_found."
        ),
        parameters=[OpenApiParameter("state", str, enum=list(ROSTER_STATES), required=False)],
        responses={
            200: page_of(AssignmentRosterRowOutput),
            **error_responses("400 invalid_state", "404 not_found"),
        },
        tags=TAG,
    )
    def get(self, request: Request, assignment_id: str) -> Response:
        viewer = viewer_get(user=request.user)
        assignment = visible_assignment(viewer, assignment_id)
        classes = assignment_class_ids(assignment)
        taught = viewer.teacher_classes(classes)
        own = [s.id for s in viewer.students_in(classes)]
        if not taught and not own:
            raise ApiError("not_found", "作业不存在", status_code=404)
        state = request.query_params.get("state") or None
        if state is not None and state not in ROSTER_STATES:
            raise ApiError("invalid_state", "state 只能是 submitted、missing、late 或 uncorrected")
        roster = assignment_roster(assignment=assignment, class_ids=taught, student_ids=own, state=state)
        paginator = RosterPagination()
        page = paginator.paginate_queryset(roster, request, view=self) or []
        privacy_audit_read(
            actor=request.user,
            student_ids=[m.user_id for m in page],
            what="homework_submissions",
            request=request,
            class_ids={m.school_class_id for m in page},
            staff=bool(taught),
        )
        return paginator.get_paginated_response(
            AssignmentRosterRowOutput(roster_rows(page, assignment), many=True).data
        )

    @extend_schema(
        operation_id="assignments_submissions_create",
        summary="提交作业 / Submit work",
        description=(
            "A student submits their work; a guardian may submit for their young child "
            "(recorded as `submitted_by`). After the due time the work is marked late and still "
            "accepted until the teacher closes the assignment. Submitting again makes a new "
            "version (older ones are kept) and is allowed only when the assignment allows it or "
            "the teacher asked for a resubmission. A retry with the same `client_id` answers 200 "
            "with the first result. The class's teachers receive `homework.submitted` "
            "(realtime only, no push per submission).\n\n"
            "Errors: 400 invalid, submission_type_not_allowed, empty_submission, "
            "unknown_attachments, too_many_attachments; 404 not_found (assignment or student "
            "not the caller's); 409 assignment_closed, resubmit_not_allowed, client_id_reused; "
            "401 not_authenticated."
        ),
        request=Input,
        responses={
            201: SubmissionDetailOutput,
            200: SubmissionDetailOutput,
            **error_responses(
                "400 invalid submission_type_not_allowed empty_submission unknown_attachments too_many_attachments",
                "404 not_found",
                "409 assignment_closed resubmit_not_allowed client_id_reused",
            ),
        },
        tags=TAG,
    )
    def post(self, request: Request, assignment_id: str) -> Response:
        viewer = viewer_get(user=request.user)
        assignment = visible_assignment(viewer, assignment_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        result = submission_create(
            assignment=assignment, actor=request.user, viewer=viewer, **data.validated_data
        )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return _detail_response(result.submission.pk, viewer, code)


class SubmissionDetailView(APIView):
    @extend_schema(
        operation_id="submissions_retrieve",
        summary="作业提交详情 / One version of submitted work",
        description=(
            "One version with its current feedback and the list of all versions. Teachers of "
            "the student's class, the student and their guardians only.\n\n"
            "Errors: 401 not_authenticated; 404 not_found."
        ),
        responses={200: SubmissionDetailOutput, **error_responses("404 not_found")},
        tags=TAG,
    )
    def get(self, request: Request, submission_id: str) -> Response:
        return _detail_response(submission_id, viewer_get(user=request.user))


class FeedbackView(APIView):
    class FeedbackInput(serializers.Serializer):
        score = serializers.DecimalField(max_digits=6, decimal_places=1, required=False, allow_null=True)
        grade = serializers.CharField(max_length=8, required=False, allow_blank=True, default="")
        comment = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
        voice_attachment_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)
        excellent = serializers.BooleanField(required=False, default=False, help_text="优秀作业")
        request_resubmit = serializers.BooleanField(required=False, default=False)

    Input = FeedbackInput

    @extend_schema(
        operation_id="submissions_feedback",
        summary="批改作业 / Give feedback",
        description=(
            "A teacher of the student's class corrects the current version: a score (0–max_score, "
            "one decimal) for score-graded work, a grade from the scale for grade-graded work, a "
            "comment, a voice comment, 优秀作业, or a request to resubmit (reopens submission for "
            "that student). Feedback again replaces what the student sees and keeps the earlier "
            "feedback as history. The student and their guardians receive `homework.feedback`.\n\n"
            "Errors: 400 invalid, invalid_score, invalid_grade, empty_feedback, "
            "conflicting_feedback, unknown_attachments, attachment_type_not_allowed; 404 "
            "not_found (not a teacher of that class); 409 submission_superseded, "
            "assignment_closed (request_resubmit on a closed assignment); 401 not_authenticated."
        ),
        request=Input,
        responses={
            201: SubmissionDetailOutput,
            **error_responses(
                "400 invalid invalid_score invalid_grade empty_feedback conflicting_feedback unknown_attachments attachment_type_not_allowed",
                "404 not_found",
                "409 submission_superseded assignment_closed",
            ),
        },
        tags=TAG,
    )
    def post(self, request: Request, submission_id: str) -> Response:
        viewer = viewer_get(user=request.user)
        submission = get_in_scope(submissions_correctable(viewer=viewer), submission_id, NOT_FOUND)
        data = _valid(
            self.Input(data=request.data),
            {
                "score": ("invalid_score", "分数格式不正确（最多一位小数）"),
                "grade": ("invalid_grade", "等级格式不正确"),
            },
        )
        feedback_give(submission=submission, teacher=request.user, **data)
        return _detail_response(submission.pk, viewer, status.HTTP_201_CREATED)
