"""SMS accounts in the admin: balances, and the operations (open, top up, transfer,
freeze), each a form that calls the service; the account rows are never edited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from backend.conventions.errors import ApiError
from backend.schools.models import Org
from backend.schools.selectors import admin_scope_q, orgs_administered
from backend.sms.models import SmsAccount
from backend.sms.services import (
    sms_account_create,
    sms_account_may_manage,
    sms_account_set_frozen,
    sms_account_top_up,
    sms_account_transfer,
)

from .scope import ScopedReadOnlyAdmin, is_platform_admin


def _segments_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=1, max_value=100_000_000)


class OpenForm(forms.Form):
    org = forms.ModelChoiceField(queryset=Org.objects.none(), label="机构", help_text="教育局或学校")
    teacher_phone = forms.CharField(
        label="教师手机号", required=False, help_text="填写则开通该教师在本校的额度账户"
    )
    signature = forms.CharField(label="短信签名", required=False, help_text="留空则沿用上级账户的签名")
    name = forms.CharField(label="账户名称", required=False)
    extension_code = forms.RegexField(
        r"^[0-9]{1,6}$", label="扩展码", required=False, help_text="留空自动分配"
    )


class TopUpForm(forms.Form):
    segments = _segments_field("充值条数")
    memo = forms.CharField(label="备注", required=False, max_length=200, help_text="合同或付款凭证")


class TransferForm(forms.Form):
    target = forms.ModelChoiceField(queryset=SmsAccount.objects.none(), label="划拨到")
    segments = _segments_field("条数")
    memo = forms.CharField(label="备注", required=False, max_length=200)


@admin.register(SmsAccount)
class SmsAccountAdmin(ScopedReadOnlyAdmin):
    scope_field = "org__path"
    change_list_template = "admin/sms/smsaccount/change_list.html"
    list_display = (
        "name",
        "org",
        "owner",
        "signature",
        "extension_code",
        "balance",
        "reserved",
        "available_segments",
        "frozen",
        "operations",
    )
    list_filter = ("frozen", "org")
    search_fields = ("name", "signature", "extension_code", "org__name", "owner__name")
    list_select_related = ("org", "owner", "parent")
    actions = ["freeze", "unfreeze"]

    @admin.display(description="可用（条）")
    def available_segments(self, obj: SmsAccount) -> int:
        return obj.available

    @admin.display(description="操作")
    def operations(self, obj: SmsAccount) -> str:
        return format_html(
            '<a href="{}">充值</a> | <a href="{}">划拨</a>',
            reverse("admin:sms_smsaccount_topup", args=[obj.pk]),
            reverse("admin:sms_smsaccount_transfer", args=[obj.pk]),
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Needed for the actions; every field stays read-only.
        return self.has_module_permission(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in SmsAccount._meta.fields]

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("open/", view(self.open_view), name="sms_smsaccount_open"),
            path("<int:account_id>/top-up/", view(self.top_up_view), name="sms_smsaccount_topup"),
            path("<int:account_id>/transfer/", view(self.transfer_view), name="sms_smsaccount_transfer"),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(request, {**(extra_context or {}), "can_open": True})

    def _account(self, request: HttpRequest, account_id: int) -> SmsAccount:
        account = self.get_queryset(request).filter(pk=account_id).first()
        if account is None:
            raise Http404("短信账户不存在")
        return account

    def _page(self, request: HttpRequest, form: forms.Form, title: str, **context: Any) -> TemplateResponse:
        return TemplateResponse(
            request,
            "admin/sms/operation.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "form": form,
                "title": title,
                **context,
            },
        )

    def _done(self, request: HttpRequest, text: str) -> HttpResponseRedirect:
        self.message_user(request, text, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:sms_smsaccount_changelist"))

    def open_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_module_permission(request):
            raise Http404
        form = OpenForm(request.POST or None)
        orgs: QuerySet[Org] = (
            Org.objects.all() if is_platform_admin(request) else orgs_administered(user=request.user)
        )
        form.fields["org"].queryset = orgs  # type: ignore[attr-defined]
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            owner = None
            if data["teacher_phone"]:
                owner = get_user_model()._default_manager.filter(phone=data["teacher_phone"].strip()).first()
                if owner is None:
                    form.add_error("teacher_phone", "没有这个手机号的用户")
            if not form.errors:
                try:
                    account = sms_account_create(
                        org=data["org"],
                        owner=owner,
                        signature=data["signature"],
                        name=data["name"],
                        extension_code=data["extension_code"] or None,
                        actor=request.user,
                    )
                except ApiError as exc:
                    form.add_error(None, exc.message)
                else:
                    return self._done(request, f"已开通 {account.name}（扩展码 {account.extension_code}）")
        return self._page(request, form, "开通短信账户", submit_label="开通")

    def top_up_view(self, request: HttpRequest, account_id: int) -> HttpResponse:
        account = self._account(request, account_id)
        if not is_platform_admin(request):
            raise Http404
        form = TopUpForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                sms_account_top_up(
                    account=account,
                    segments=form.cleaned_data["segments"],
                    memo=form.cleaned_data["memo"],
                    actor=request.user,
                )
            except ApiError as exc:
                form.add_error(None, exc.message)
            else:
                return self._done(request, f"{account.name} 已充值 {form.cleaned_data['segments']} 条")
        return self._page(
            request,
            form,
            f"充值：{account.name}",
            account=account,
            submit_label="充值",
            intro="平台运营人员登记已付款的短信条数。",
        )

    def transfer_view(self, request: HttpRequest, account_id: int) -> HttpResponse:
        account = self._account(request, account_id)
        form = TransferForm(request.POST or None)
        targets = SmsAccount.objects.filter(Q(parent=account) | Q(pk=account.parent_id or 0))
        if not is_platform_admin(request):
            targets = targets.filter(
                admin_scope_q(user=request.user, field="org__path") | Q(pk=account.parent_id or 0)
            )
        form.fields["target"].queryset = targets.select_related("org")  # type: ignore[attr-defined]
        if request.method == "POST" and form.is_valid():
            try:
                sms_account_transfer(
                    source=account,
                    target=form.cleaned_data["target"],
                    segments=form.cleaned_data["segments"],
                    memo=form.cleaned_data["memo"],
                    actor=request.user,
                )
            except ApiError as exc:
                form.add_error(None, exc.message)
            else:
                return self._done(request, f"已从 {account.name} 划拨 {form.cleaned_data['segments']} 条")
        return self._page(
            request,
            form,
            f"划拨：{account.name}",
            account=account,
            submit_label="划拨",
            intro="在本账户与其上级或下级账户之间划拨可用条数（上级机构管理员操作）。",
        )

    def _set_frozen(self, request: HttpRequest, queryset: QuerySet[SmsAccount], frozen: bool) -> None:
        done, refused = [], []
        for account in queryset:
            if not sms_account_may_manage(actor=request.user, account=account):
                refused.append(account.name)
                continue
            sms_account_set_frozen(account=account, frozen=frozen, actor=request.user)
            done.append(account.name)
        if done:
            self.message_user(
                request, f"已{'冻结' if frozen else '解冻'}：{'、'.join(done)}", messages.SUCCESS
            )
        if refused:
            self.message_user(
                request, f"无权操作（需上级机构管理员）：{'、'.join(refused)}", messages.WARNING
            )

    @admin.action(description="冻结所选账户")
    def freeze(self, request: HttpRequest, queryset: QuerySet[SmsAccount]) -> None:
        self._set_frozen(request, queryset, True)

    @admin.action(description="解冻所选账户")
    def unfreeze(self, request: HttpRequest, queryset: QuerySet[SmsAccount]) -> None:
        self._set_frozen(request, queryset, False)
