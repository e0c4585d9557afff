"""GET me/: who the caller is."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.selectors import user_profile
from backend.conventions.schema import error_responses

from .base import caller


class MeSchoolOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MeClassOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    school = MeSchoolOutput()
    role = serializers.CharField(help_text="teacher / student / guardian：调用者在该班的身份")


class MeChildOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    class_id = serializers.IntegerField(allow_null=True)
    relation = serializers.CharField(help_text="父亲、母亲、爷爷、奶奶、外公、外婆、其他")


class MeOrgOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text="province / city / county / school")
    role = serializers.CharField(help_text="school_admin / bureau_admin")


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="实名（仅本人可见完整信息）")
    display_name = serializers.CharField(help_text="对他人显示的称呼，家长为“王小明妈妈”")
    phone = serializers.CharField(allow_null=True, help_text="本人手机号（完整）")
    roles = serializers.ListField(
        child=serializers.CharField(),
        help_text="guardian / student / teacher / head_teacher / school_admin / bureau_admin",
    )
    classes = MeClassOutput(many=True)
    children = MeChildOutput(many=True)
    orgs = MeOrgOutput(many=True, help_text="调用者管理的机构（管理员）")


class MeView(APIView):
    @extend_schema(
        summary="当前用户 / Who am I",
        description=(
            "The caller's profile: roles, classes (one entry per class with the role shown), "
            "children (guardians) and administered orgs.\n\n"
            "Errors: 401 not_authenticated, token_invalid, account_disabled."
        ),
        responses={200: MeOutput, **error_responses("401 token_invalid account_disabled")},
        tags=["accounts"],
    )
    def get(self, request: Request) -> Response:
        return Response(MeOutput(user_profile(user=caller(request))).data)
