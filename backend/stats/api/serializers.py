from __future__ import annotations

from rest_framework import serializers


class RowPointsOutput(serializers.Serializer):
    class_setup = serializers.IntegerField(help_text="班级组建")
    class_notice = serializers.IntegerField(help_text="班级通知")
    class_activity = serializers.IntegerField(help_text="班级活动")
    habit = serializers.IntegerField(help_text="习惯养成")
    correction = serializers.IntegerField(help_text="练习批阅")
    guided_test = serializers.IntegerField(help_text="导学检测")
    login = serializers.IntegerField(help_text="空间登录")
    profile = serializers.IntegerField(help_text="信息完善")


class TotalsRowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    total = serializers.IntegerField()
    rows = RowPointsOutput()


class StatsOrgRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class ScoresOutput(serializers.Serializer):
    org = StatsOrgRefOutput()
    week = serializers.DateField()
    level = serializers.ChoiceField(choices=["school", "teacher"], help_text="results 是学校还是教师")
    row_labels = serializers.DictField(child=serializers.CharField())
    totals = TotalsRowOutput()
    results = TotalsRowOutput(many=True)


class EvidenceOutput(serializers.Serializer):
    source_type = serializers.CharField()
    source_id = serializers.IntegerField(allow_null=True)
    label = serializers.CharField()  # type: ignore[assignment]
    date = serializers.DateField()
    points = serializers.IntegerField()
    capped = serializers.BooleanField()
    figures = serializers.DictField()


class TeacherRowOutput(serializers.Serializer):
    row = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    points = serializers.IntegerField()
    items = EvidenceOutput(many=True)


class TeacherScoresOutput(serializers.Serializer):
    teacher = serializers.DictField()
    week = serializers.DateField()
    total = serializers.IntegerField()
    rows = TeacherRowOutput(many=True)


class UnreachedOutput(serializers.Serializer):
    guardian_id = serializers.IntegerField()
    display_name = serializers.CharField()
    reason = serializers.ChoiceField(choices=["no_phone", "unsubscribed", "stale_number", "sms_failing"])


class ReachOutput(serializers.Serializer):
    class_id = serializers.IntegerField()
    class_name = serializers.CharField()
    since = serializers.DateTimeField()
    families = serializers.IntegerField()
    with_app = serializers.IntegerField()
    notices = serializers.IntegerField()
    receipts = serializers.IntegerField()
    read = serializers.IntegerField()
    read_rate = serializers.FloatField()
    unreached = UnreachedOutput(many=True)
