"""conversations/: list, open (discussion or direct), detail, read marker, close, pin, mute."""

from __future__ import annotations

from django.db.models import F
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.conventions.errors import not_found
from backend.conventions.idempotency import idempotent
from backend.conventions.pagination import IdCursorPagination, page_of
from backend.conventions.schema import error_responses
from backend.messaging.models import Conversation
from backend.messaging.selectors import conversation_list
from backend.messaging.services import (
    conversation_close,
    conversation_mark_read,
    conversation_mute_member,
    conversation_notifications_set,
    conversation_open_direct,
    conversation_open_discussion,
    conversation_pin,
    discussions_join,
    membership_for,
)

from .serializers import ConversationOutput, conversation_rows

TAG = ["conversations"]


class ActivityPagination(IdCursorPagination):
    """Most recent activity first."""

    ordering = ("-activity", "-id")  # type: ignore[assignment]  # DRF accepts a tuple
    page_size = 30


def _one(request: Request, conversation_id: int, status_code: int = 200) -> Response:
    member = conversation_list(user=request.user).filter(conversation_id=conversation_id).first()
    if member is None:
        raise not_found("会话不存在")
    return Response(
        ConversationOutput(conversation_rows([member], user=request.user)[0]).data, status=status_code
    )


class ConversationCollectionView(APIView):
    class ConversationOpenInput(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Conversation.Kind.choices)
        class_id = serializers.IntegerField(required=False, min_value=1)
        title = serializers.CharField(required=False, max_length=100)
        allow_students = serializers.BooleanField(required=False, default=False)
        user_id = serializers.IntegerField(required=False, min_value=1)
        student_id = serializers.IntegerField(required=False, min_value=1, allow_null=True)

        def validate(self, attrs: dict) -> dict:  # type: ignore[type-arg]
            if attrs["kind"] == Conversation.Kind.DISCUSSION:
                missing = [f for f in ("class_id", "title") if not attrs.get(f)]
            else:
                missing = [] if attrs.get("user_id") else ["user_id"]
            if missing:
                raise serializers.ValidationError({f: ["必填"] for f in missing})
            return attrs

    Input = ConversationOpenInput

    @extend_schema(
        operation_id="conversations_list",
        summary="我的会话 / My conversations",
        description=(
            "The caller's discussions and direct chats, most recent activity first, each with "
            "`unread` (visible messages of others after the read marker).\n\nErrors: 401."
        ),
        responses={200: page_of(ConversationOutput)},
        tags=TAG,
    )
    def get(self, request: Request) -> Response:
        discussions_join(user=request.user)
        members = conversation_list(user=request.user).annotate(activity=F("conversation__last_message_id"))
        paginator = ActivityPagination()
        page = paginator.paginate_queryset(members, request, view=self) or []
        return paginator.get_paginated_response(
            ConversationOutput(conversation_rows(page, user=request.user), many=True).data
        )

    @extend_schema(
        operation_id="conversations_open",
        summary="发起讨论或私聊 / Open a discussion or direct chat",
        description=(
            '`{"kind": "discussion", "class_id", "title", "allow_students"?}`: a teacher of the class '
            'opens a topic for its guardians (and students when allowed). `{"kind": "direct", "user_id", '
            '"student_id"?}`: a teacher and a guardian of a child in the teacher\'s class; an existing chat '
            "is returned (200) instead of a duplicate. Guardians may chat with each other only when the "
            "school allows it.\n\nErrors: 400 invalid, invalid_user; 403 guardian_chats_off; 404 not_found "
            "(class, user or child outside the caller's scope)."
        ),
        request=Input,
        responses={
            201: ConversationOutput,
            200: ConversationOutput,
            **error_responses("400 invalid invalid_user", "403 guardian_chats_off", "404 not_found"),
        },
        tags=TAG,
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data

        def create() -> Response:
            if v["kind"] == Conversation.Kind.DISCUSSION:
                conversation = conversation_open_discussion(
                    teacher=request.user,
                    class_id=v["class_id"],
                    title=v["title"],
                    allow_students=v["allow_students"],
                )
                created = True
            else:
                conversation, created = conversation_open_direct(
                    user=request.user, user_id=v["user_id"], student_id=v.get("student_id")
                )
            return _one(request, conversation.pk, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

        return idempotent(request, create)


class ConversationDetailView(APIView):
    @extend_schema(
        operation_id="conversations_read_one",
        summary="会话详情 / Conversation",
        description="Errors: 404 not_found (not a member).",
        responses={200: ConversationOutput, **error_responses("404 not_found")},
        tags=TAG,
    )
    def get(self, request: Request, conversation_id: str) -> Response:
        member = membership_for(user=request.user, conversation_id=conversation_id)
        return _one(request, member.conversation_id)


class ReadView(APIView):
    class ConversationReadInput(serializers.Serializer):
        up_to = serializers.IntegerField(min_value=0)

    Input = ConversationReadInput

    @extend_schema(
        operation_id="conversations_mark_read",
        summary="标记已读 / Mark read",
        description=(
            "Moves the caller's read marker forward to `up_to` (a message id; never backwards) and "
            "sends `conversation.read` to the caller's devices.\n\nErrors: 400 invalid; 404 not_found."
        ),
        request=Input,
        responses={
            200: inline_serializer(
                "ReadOutput", {"up_to": serializers.IntegerField(), "unread": serializers.IntegerField()}
            ),
            **error_responses("400 invalid", "404 not_found"),
        },
        tags=TAG,
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        member = membership_for(user=request.user, conversation_id=conversation_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        member = conversation_mark_read(member=member, up_to=data.validated_data["up_to"])
        row = conversation_list(user=request.user).filter(pk=member.pk).first()
        return Response({"up_to": member.last_read_id, "unread": getattr(row, "unread", 0)})


class CloseView(APIView):
    @extend_schema(
        operation_id="conversations_close",
        summary="关闭讨论 / Close a discussion",
        description="A teacher of the class or a school admin; members can no longer post.\n\nErrors: 403 not_moderator; 404 not_found.",
        request=None,
        responses={200: ConversationOutput, **error_responses("403 not_moderator", "404 not_found")},
        tags=TAG,
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        member = membership_for(user=request.user, conversation_id=conversation_id)
        conversation_close(user=request.user, member=member)
        return _one(request, member.conversation_id)


class PinView(APIView):
    class ConversationPinInput(serializers.Serializer):
        message_id = serializers.IntegerField(min_value=1, allow_null=True)

    Input = ConversationPinInput

    @extend_schema(
        operation_id="conversations_pin",
        summary="置顶消息 / Pin a message",
        description='`{"message_id": id}` pins, `{"message_id": null}` unpins.\n\nErrors: 400 unknown_message; 403 not_moderator; 404 not_found.',
        request=Input,
        responses={
            200: ConversationOutput,
            **error_responses("400 unknown_message", "403 not_moderator", "404 not_found"),
        },
        tags=TAG,
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        member = membership_for(user=request.user, conversation_id=conversation_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        conversation_pin(user=request.user, member=member, message_id=data.validated_data["message_id"])
        return _one(request, member.conversation_id)


class MuteView(APIView):
    class ConversationMuteInput(serializers.Serializer):
        user_id = serializers.IntegerField(min_value=1)
        minutes = serializers.IntegerField(min_value=0, max_value=7 * 24 * 60, help_text="0 解除禁言")

    class ConversationMuteOutput(serializers.Serializer):
        user_id = serializers.IntegerField()
        muted_until = serializers.DateTimeField(allow_null=True)

    Input = ConversationMuteInput

    Output = ConversationMuteOutput

    @extend_schema(
        operation_id="conversations_mute_member",
        summary="禁言成员 / Mute a member",
        description="A moderator stops a member from posting for `minutes` (0 lifts it).\n\nErrors: 400 not_a_member, cannot_mute_teacher, invalid; 403 not_moderator; 404 not_found.",
        request=Input,
        responses={
            200: Output,
            **error_responses(
                "400 not_a_member cannot_mute_teacher invalid", "403 not_moderator", "404 not_found"
            ),
        },
        tags=TAG,
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        member = membership_for(user=request.user, conversation_id=conversation_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        target = conversation_mute_member(
            user=request.user,
            member=member,
            target_user_id=data.validated_data["user_id"],
            minutes=data.validated_data["minutes"],
        )
        return Response(self.Output({"user_id": target.user_id, "muted_until": target.muted_until}).data)


class NotificationsView(APIView):
    """Silence a conversation's pushes and texts on the caller's phone (issue: mute a
    conversation); messages still arrive in the app, urgent items still ring."""

    class ConversationNotificationsInput(serializers.Serializer):
        muted = serializers.BooleanField()
        minutes = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            max_value=60 * 24 * 30,
            help_text="为空：直到手动恢复",
        )

    Input = ConversationNotificationsInput

    @extend_schema(
        operation_id="conversations_notifications_set",
        summary="会话免打扰 / Mute a conversation's notifications",
        description=(
            "Turns push and SMS for this conversation off (for `minutes`, or until turned back on) or on "
            "again, for the caller only. Messages still arrive over the WebSocket.\n\n"
            "Errors: 400 invalid; 404 not_found."
        ),
        request=Input,
        responses={
            200: inline_serializer(
                "ConversationNotificationsOutput",
                {"muted": serializers.BooleanField(), "until": serializers.DateTimeField(allow_null=True)},
            ),
            **error_responses("400 invalid", "404 not_found"),
        },
        tags=TAG,
    )
    def put(self, request: Request, conversation_id: str) -> Response:
        member = membership_for(user=request.user, conversation_id=conversation_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        muted = data.validated_data["muted"]
        until = conversation_notifications_set(
            member=member, muted=muted, minutes=data.validated_data.get("minutes")
        )
        return Response({"muted": muted, "until": until})
