"""Output shapes of the homework API (rows are built in presenting.py)."""

from __future__ import annotations

from rest_framework import serializers

from backend.files.api.serializers import FileOutput
from backend.homework.models import Assignment

WORK_STATUSES = ("missing", "submitted", "corrected", "resubmit_requested")
SUBMISSION_STATUSES = WORK_STATUSES[1:]


class HomeworkPersonOutput(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    display_name = serializers.CharField()


class HomeworkStudentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class HomeworkClassOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class HomeworkFeedbackOutput(serializers.Serializer):
    score = serializers.DecimalField(max_digits=5, decimal_places=1, coerce_to_string=False, allow_null=True)
    grade = serializers.CharField(allow_blank=True)
    comment = serializers.CharField(allow_blank=True)
    voice = FileOutput(allow_null=True)
    excellent = serializers.BooleanField()
    request_resubmit = serializers.BooleanField()
    teacher = HomeworkPersonOutput()
    created_at = serializers.DateTimeField()


class SubmissionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    assignment_id = serializers.IntegerField()
    student = HomeworkStudentOutput()
    class_id = serializers.IntegerField()
    class_name = serializers.CharField()
    version = serializers.IntegerField()
    is_current = serializers.BooleanField()
    status = serializers.ChoiceField(choices=SUBMISSION_STATUSES)
    text = serializers.CharField(allow_blank=True)
    attachments = FileOutput(many=True)
    submitted_by = HomeworkPersonOutput(help_text="学生本人，或代孩子提交的家长（“王小明妈妈”）")
    submitted_at = serializers.DateTimeField()
    late = serializers.BooleanField()
    feedback = HomeworkFeedbackOutput(allow_null=True)


class SubmissionVersionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    is_current = serializers.BooleanField()
    submitted_at = serializers.DateTimeField()
    late = serializers.BooleanField()
    corrected = serializers.BooleanField()


class SubmissionDetailOutput(SubmissionOutput):
    versions = SubmissionVersionOutput(many=True, help_text="该学生对本作业的全部版本，旧的在前")


class AssignmentStatsOutput(serializers.Serializer):
    students = serializers.IntegerField()
    submitted = serializers.IntegerField()
    missing = serializers.IntegerField()
    late = serializers.IntegerField()
    uncorrected = serializers.IntegerField()


class MySubmissionOutput(serializers.Serializer):
    student = HomeworkStudentOutput()
    status = serializers.ChoiceField(choices=WORK_STATUSES)
    can_submit = serializers.BooleanField(help_text="现在能否（重新）提交")
    submission_id = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)
    late = serializers.BooleanField()
    submitted_at = serializers.DateTimeField(allow_null=True)


class AssignmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    subject = serializers.CharField()
    instructions = serializers.CharField(allow_blank=True)
    attachments = FileOutput(many=True)
    classes = HomeworkClassOutput(many=True)
    author = HomeworkPersonOutput()
    due_at = serializers.DateTimeField()
    submission_types = serializers.ListField(
        child=serializers.ChoiceField(choices=Assignment.SubmissionType.choices)
    )
    grading = serializers.ChoiceField(choices=Assignment.Grading.choices)
    max_score = serializers.IntegerField(allow_null=True)
    grade_scale = serializers.CharField(allow_blank=True)
    grades = serializers.ListField(child=serializers.CharField(), help_text="等级制的可选等级，优者在前")
    allow_resubmit = serializers.BooleanField()
    status = serializers.ChoiceField(choices=["open", "past_due", "closed"])
    closed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    is_author = serializers.BooleanField()
    stats = AssignmentStatsOutput(
        allow_null=True, help_text="任课教师（本人所教班级）与管理员可见；其他人为 null"
    )
    my_submissions = MySubmissionOutput(many=True, help_text="学生本人或家长的孩子在本作业中的提交状态")


class AssignmentRosterRowOutput(serializers.Serializer):
    student = HomeworkStudentOutput()
    class_id = serializers.IntegerField()
    class_name = serializers.CharField()
    status = serializers.ChoiceField(choices=WORK_STATUSES)
    submission = SubmissionOutput(allow_null=True, help_text="当前版本；未提交为 null")


class ExcellentStudentOutput(serializers.Serializer):
    display_name = serializers.CharField(help_text="学校允许时为姓名，否则为“同学A”这样的代称")


class ExcellentWorkOutput(serializers.Serializer):
    id = serializers.IntegerField()
    student = ExcellentStudentOutput()
    class_id = serializers.IntegerField()
    class_name = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    attachments = FileOutput(many=True)
    submitted_at = serializers.DateTimeField()
    mine = serializers.BooleanField(help_text="是否为调用者本人或其孩子的作业")


class AssignmentRemindOutput(serializers.Serializer):
    reminded = serializers.IntegerField()
