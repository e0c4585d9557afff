"""Output shapes of the schools API (inputs are small and live with their views)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from backend.schools.models import RosterImport


class NamedRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GradeRefOutput(NamedRefOutput):
    level = serializers.IntegerField()


class SchoolClassOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    school = NamedRefOutput()
    grade = GradeRefOutput()
    role = serializers.CharField(
        help_text="调用者在该班的主要身份：teacher/student/guardian/school_admin/bureau_admin"
    )
    roles = serializers.ListField(child=serializers.CharField(), help_text="调用者在该班的全部身份")
    is_head_teacher = serializers.BooleanField()
    student_count = serializers.IntegerField()
    teacher_count = serializers.IntegerField()


class ClassGuardianOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField(help_text="如“王小明妈妈”")
    relation = serializers.CharField()
    name = serializers.CharField(allow_null=True, help_text="真实姓名：仅本班教师和学校管理员可见")
    phone = serializers.CharField(
        allow_null=True, help_text="打码手机号（138****0001）：仅本班教师和学校管理员可见"
    )


class ClassMemberOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="用户编号")
    name = serializers.CharField()
    display_name = serializers.CharField()
    role = serializers.ChoiceField(choices=["teacher", "student"])
    is_head_teacher = serializers.BooleanField()
    subject = serializers.CharField()
    phone = serializers.CharField(allow_null=True, help_text="打码手机号：仅本班教师和学校管理员可见")
    guardians = ClassGuardianOutput(many=True, help_text="学生的监护人；教师为空列表")


class RosterImportRowOutput(serializers.Serializer):
    row = serializers.IntegerField(help_text="Excel 中的行号（表头为第 1 行）")
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "rejected"])
    code = serializers.CharField()
    message = serializers.CharField()
    student_number = serializers.CharField()


class RosterImportCountsOutput(serializers.Serializer):
    created = serializers.IntegerField(source="created_count")
    updated = serializers.IntegerField(source="updated_count")
    unchanged = serializers.IntegerField(source="unchanged_count")
    rejected = serializers.IntegerField(source="rejected_count")


class RosterImportSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="预览（dry_run）时为 null")
    school = NamedRefOutput()
    file_name = serializers.CharField()
    file_format = serializers.ChoiceField(choices=RosterImport.Format.choices)
    encoding = serializers.CharField()
    status = serializers.ChoiceField(choices=RosterImport.Status.choices)
    dry_run = serializers.SerializerMethodField()
    total_rows = serializers.IntegerField()
    counts = RosterImportCountsOutput(source="*")
    uploaded_by = NamedRefOutput(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_dry_run(self, obj: Any) -> bool:
        return bool(obj.status == RosterImport.Status.PREVIEW)


class RosterImportOutput(RosterImportSummaryOutput):
    rows = RosterImportRowOutput(many=True)
