"""classes/: the caller's classes and who is in them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.phones import mask_phone
from backend.conventions.errors import ApiError
from backend.conventions.pagination import IdCursorPagination
from backend.conventions.schema import error_responses
from backend.conventions.scope import get_in_scope
from backend.privacy.services import privacy_audit_read
from backend.schools.models import ClassMembership
from backend.schools.selectors import (
    class_memberships,
    class_roles,
    classes_visible_to,
    classes_visible_with_details,
    guardian_display_name,
    guardianships_of_students,
    primary_class_role,
    sees_contact_details,
)

from .serializers import ClassMemberOutput, SchoolClassOutput


class OldestFirstPagination(IdCursorPagination):
    """Classes and rosters read best in creation order (三年级(1)班 before (2)班)."""

    ordering = "id"
    page_size = 50


class ClassListView(APIView):
    pagination_class = OldestFirstPagination

    @extend_schema(
        operation_id="classes_list",
        summary="我的班级 / My classes",
        description=(
            "Every class the caller may see: taught, attended, a child's, or (admins) every class "
            "in the subtree they administer; with school, grade, the caller's role and head counts. "
            "Oldest first, cursor-paginated.\n\nErrors: 401 not_authenticated."
        ),
        responses={200: SchoolClassOutput(many=True)},
        tags=["schools"],
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            classes_visible_with_details(user=request.user), request, view=self
        )
        roles = class_roles(user=request.user, classes=page or [])
        rows = [
            {
                "id": c.pk,
                "name": c.name,
                "school": c.school,
                "grade": c.grade,
                "role": primary_class_role(roles[c.pk]),
                "roles": roles[c.pk],
                "is_head_teacher": "head_teacher" in roles[c.pk],
                "student_count": c.student_count,  # type: ignore[attr-defined]
                "teacher_count": c.teacher_count,  # type: ignore[attr-defined]
            }
            for c in page or []
        ]
        return paginator.get_paginated_response(SchoolClassOutput(rows, many=True).data)


class ClassMembersView(APIView):
    pagination_class = OldestFirstPagination

    @extend_schema(
        operation_id="classes_members_list",
        summary="班级成员 / Members of a class",
        description=(
            "Teachers and students of a class; each student with their guardians, named as the "
            'class knows them ("王小明妈妈"). Phone numbers are never shown to guardians or '
            "students; teachers of the class and admins of its school see them masked "
            "(138****0001) together with guardians' real names. `?role=teacher|student` filters. "
            "Oldest membership first, cursor-paginated.\n\n"
            "Errors: 400 invalid_role; 401 not_authenticated; 404 not_found (no such class or "
            "not one of the caller's)."
        ),
        parameters=[OpenApiParameter("role", str, enum=["teacher", "student"], required=False)],
        responses={200: ClassMemberOutput(many=True), **error_responses("400 invalid_role", "404 not_found")},
        tags=["schools"],
    )
    def get(self, request: Request, class_id: str) -> Response:
        school_class = get_in_scope(
            classes_visible_to(user=request.user).select_related("school"), class_id, "班级不存在"
        )
        role = request.query_params.get("role") or None
        if role not in (None, *ClassMembership.Role.values):
            raise ApiError("invalid_role", "role 只能是 teacher 或 student")
        staff = sees_contact_details(user=request.user, school_class=school_class)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            class_memberships(school_class=school_class, role=role), request, view=self
        )
        members: list[ClassMembership] = list(page or [])
        student_ids = [m.user_id for m in members if m.role == ClassMembership.Role.STUDENT]
        privacy_audit_read(
            actor=request.user,
            student_ids=student_ids,
            what="class_members",
            request=request,
            class_ids=[school_class.pk],
            staff=staff,
        )
        guardians: dict[int, list[dict[str, Any]]] = {}
        for link in guardianships_of_students(student_ids=student_ids).select_related("student"):
            guardians.setdefault(link.student_id, []).append(
                {
                    "id": link.guardian_id,
                    "display_name": guardian_display_name(
                        student_name=link.student.name, relation=link.relation
                    ),
                    "relation": link.relation,
                    "name": link.guardian.name if staff else None,
                    "phone": (mask_phone(link.guardian.phone) or None) if staff else None,
                }
            )
        rows = [
            {
                "id": m.user_id,
                "name": m.user.name,
                "display_name": m.user.name,
                "role": m.role,
                "is_head_teacher": m.is_head_teacher,
                "subject": m.subject,
                "phone": (mask_phone(m.user.phone) or None) if staff else None,
                "guardians": guardians.get(m.user_id, []),
            }
            for m in members
        ]
        return paginator.get_paginated_response(ClassMemberOutput(rows, many=True).data)
