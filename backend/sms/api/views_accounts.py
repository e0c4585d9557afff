"""SMS accounts over the API: balances the caller may see, their ledger, transfers down
the tree, and the templates a mass text may use."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.conventions.pagination import IdCursorPagination, page_of
from backend.conventions.schema import error_responses
from backend.conventions.scope import get_in_scope
from backend.sms.providers import provider_supports_free_text
from backend.sms.selectors import accounts_visible_to, job_templates, ledger_of_account
from backend.sms.services import sms_account_transfer

from .serializers import (
    AccountOutput,
    LedgerEntryOutput,
    TemplatesOutput,
    TransferInput,
    TransferOutput,
    account_data,
)

TAGS = ["sms"]


class AccountListView(APIView):
    @extend_schema(
        operation_id="sms_accounts_list",
        summary="短信账户余额 / SMS accounts the caller may see",
        description=(
            "Admins: every account in their subtree (school accounts, teachers' allowances); "
            "teachers: their own allowance. Balances in segments (条); available = balance − "
            "reserved. Cursor-paginated, newest first.\n\nErrors: `not_authenticated` (401)."
        ),
        responses={200: page_of(AccountOutput)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(accounts_visible_to(user=request.user), request, self) or []
        return paginator.get_paginated_response([account_data(a) for a in page])


class AccountDetailView(APIView):
    @extend_schema(
        operation_id="sms_accounts_retrieve",
        summary="短信账户详情 / One SMS account",
        description="Errors: `not_found` (404, also for accounts outside the caller's scope).",
        responses={200: AccountOutput, **error_responses("404 not_found")},
        tags=TAGS,
    )
    def get(self, request: Request, account_id: int) -> Response:
        account = get_in_scope(accounts_visible_to(user=request.user), account_id, "短信账户不存在")
        return Response(account_data(account))


class AccountLedgerView(APIView):
    @extend_schema(
        operation_id="sms_accounts_ledger",
        summary="账户流水 / Ledger of an SMS account",
        description=(
            "Every movement: top_up, transfer_in/out, reserve, charge, refund, release. `segments` "
            "changes the balance, `held` the reservations.\n\nErrors: `not_found` (404)."
        ),
        responses={200: page_of(LedgerEntryOutput), **error_responses("404 not_found")},
        tags=TAGS,
    )
    def get(self, request: Request, account_id: int) -> Response:
        account = get_in_scope(accounts_visible_to(user=request.user), account_id, "短信账户不存在")
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(ledger_of_account(account=account), request, self) or []
        return paginator.get_paginated_response(LedgerEntryOutput(page, many=True).data)


class AccountTransferView(APIView):
    @extend_schema(
        operation_id="sms_accounts_transfer",
        summary="划拨短信条数 / Transfer segments to a sub-account (or back)",
        description=(
            "A bureau funds its schools' accounts, a school its teachers' allowances, and either "
            "may take unused segments back. Only between an account and its direct parent or "
            "child, by an admin of the parent's org.\n\nErrors: `invalid` (400), "
            "`transfer_not_allowed` (400), `not_found` (404), `insufficient_quota` (409), "
            "`account_frozen` (409)."
        ),
        request=TransferInput,
        responses={
            201: TransferOutput,
            **error_responses(
                "400 invalid transfer_not_allowed", "404 not_found", "409 insufficient_quota account_frozen"
            ),
        },
        tags=TAGS,
    )
    def post(self, request: Request, account_id: int) -> Response:
        visible = accounts_visible_to(user=request.user)
        source = get_in_scope(visible, account_id, "短信账户不存在")
        data = TransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        target = get_in_scope(visible, data.validated_data["to_account_id"], "目标账户不存在")
        ref = sms_account_transfer(
            source=source,
            target=target,
            segments=data.validated_data["segments"],
            actor=request.user,
            memo=data.validated_data["memo"],
        )
        source.refresh_from_db()
        target.refresh_from_db()
        return Response(
            {"ref": ref, "source": account_data(source), "target": account_data(target)}, status=201
        )


class TemplateListView(APIView):
    @extend_schema(
        operation_id="sms_templates_list",
        summary="群发短信模板 / Templates for mass texting",
        description=(
            "Approved platform templates a school may text with, with each slot's maximum "
            "length; `free_text` says whether the current provider carries free text."
        ),
        responses={200: TemplatesOutput},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        templates = [
            {"id": t.name, "label": t.label, "text": t.text, "slots": dict(t.max_lengths)}
            for t in job_templates()
        ]
        return Response({"templates": templates, "free_text": provider_supports_free_text()})
