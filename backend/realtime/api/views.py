"""REST side of the realtime gateway: the event log for clients without a socket, and
tickets for browsers' websocket handshakes."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.base_user import AbstractBaseUser
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from backend.conventions.schema import error_responses
from backend.realtime.selectors import user_events_page
from backend.realtime.services import realtime_ticket_issue

from .serializers import EventsPageOutput, EventsQueryInput, TicketOutput


def _caller(request: Request) -> AbstractBaseUser:
    # IsAuthenticated (the default permission) has already turned anonymous callers away.
    return cast("AbstractBaseUser", request.user)


class EventsListView(APIView):
    @extend_schema(
        operation_id="realtime_events_list",
        summary="补拉实时事件 / Fetch realtime events after a sequence number",
        description=(
            "The fallback for clients that cannot hold a WebSocket: the caller's events with "
            "seq > after_seq, oldest first, as the same frames the socket sends. Follow `next` "
            "until it is null; store `last_seq` as the next after_seq.\n\n"
            "Errors: `invalid` (400, after_seq/limit not a non-negative integer / 1–500), "
            "`not_authenticated` / `authentication_failed` (401)."
        ),
        parameters=[EventsQueryInput],
        responses={200: EventsPageOutput, **error_responses("400 invalid")},
    )
    def get(self, request: Request) -> Response:
        query = EventsQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        page = user_events_page(
            user_id=_caller(request).pk, after_seq=query.validated_data["after_seq"], limit=limit
        )
        next_url = None
        if page.has_more:
            next_url = replace_query_param(request.build_absolute_uri(), "after_seq", page.last_seq)
        return Response(
            EventsPageOutput({"results": page.frames, "next": next_url, "last_seq": page.last_seq}).data
        )


class TicketThrottle(UserRateThrottle):
    scope = "realtime_ticket"
    rate = "30/min"


class TicketCreateView(APIView):
    throttle_classes = [TicketThrottle]

    @extend_schema(
        operation_id="realtime_ticket_create",
        summary="获取实时连接票据 / Get a one-time WebSocket ticket (browsers)",
        description=(
            "Browsers cannot set headers on a WebSocket: open `/ws/v1/events/?ticket=<ticket>` "
            "within `expires_in` seconds. A ticket works once and only for the caller. "
            "Apps use the Authorization header on the handshake instead.\n\n"
            "Errors: `not_authenticated` / `authentication_failed` (401), `rate_limited` (429)."
        ),
        request=None,
        responses={200: TicketOutput, **error_responses("429 rate_limited")},
    )
    def post(self, request: Request) -> Response:
        ticket, ttl = realtime_ticket_issue(user=_caller(request))
        return Response(TicketOutput({"ticket": ticket, "expires_in": ttl}).data)
