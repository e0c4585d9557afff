"""SMS accounts: opening them, top-ups (operators), transfers down the tree (a bureau
funds its schools, a school its teachers' allowances) and freezing. Every change is a
ledger movement and an audit record."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.db import transaction

from backend.audit.services import audit_record
from backend.conventions.errors import ApiError
from backend.schools.models import Org
from backend.schools.selectors import is_school_admin_of
from backend.sms.models import LedgerEntry, SmsAccount
from sms_gateway.segments import bare_signature, bracket_signature

from .ledger import Movement, ledger_apply, ledger_debit

MAX_SEGMENTS_PER_OPERATION = 100_000_000
_EXTENSION = re.compile(r"[0-9]{1,6}")


def _check_segments(segments: int) -> None:
    if not isinstance(segments, int) or isinstance(segments, bool) or segments <= 0:
        raise ApiError("invalid_segments", "条数必须是正整数", fields={"segments": ["必须是正整数"]})
    if segments > MAX_SEGMENTS_PER_OPERATION:
        raise ApiError("invalid_segments", "单次条数过大", fields={"segments": ["单次最多一亿条"]})


def _signature(raw: str) -> str:
    bare = bare_signature(raw)
    if not 2 <= len(bare) <= 20:
        raise ApiError(
            "signature_invalid", "短信签名需为 2–20 个字", fields={"signature": ["需为 2–20 个字"]}
        )
    return bracket_signature(bare)


def _is_operator(actor: Any) -> bool:
    return actor is None or bool(getattr(actor, "is_superuser", False))


def sms_account_may_manage(*, actor: Any, account: SmsAccount) -> bool:
    """Who may fund, reclaim from or freeze `account`: platform operators, and admins of
    the org that holds the account above it (a bureau for its schools, a school for its
    teachers). Nobody manages their own top-level account but operators."""
    if _is_operator(actor):
        return True
    parent = account.parent
    return parent is not None and is_school_admin_of(user=actor, school=parent.org)


def _assign_extension(account: SmsAccount) -> None:
    base = f"{account.pk:04d}"
    for candidate in [base, *(f"{base}{i}" for i in range(10))]:
        if len(candidate) <= 8 and not SmsAccount.objects.filter(extension_code=candidate).exists():
            account.extension_code = candidate
            account.save(update_fields=["extension_code"])
            return
    raise ApiError("extension_code_unavailable", "无法分配扩展码", status_code=409)


@transaction.atomic
def sms_account_create(
    *,
    org: Org,
    signature: str = "",
    name: str = "",
    owner: Any = None,
    parent: SmsAccount | None = None,
    extension_code: str | None = None,
    actor: Any = None,
) -> SmsAccount:
    """Open an account for `org` (a bureau or school), or a teacher's allowance (`owner`)
    under the school's account. The parent defaults to the school's account for an
    allowance, else to the account of the nearest ancestor org that has one. Signature
    defaults to the parent's; the extension code is assigned when not given."""
    if owner is not None:
        parent = parent or SmsAccount.objects.filter(org=org, owner__isnull=True).first()
        if parent is None:
            raise ApiError("no_parent_account", "学校尚未开通短信账户", status_code=409)
        if SmsAccount.objects.filter(org=org, owner=owner).exists():
            raise ApiError("account_exists", "该教师已有短信额度账户", status_code=409)
    else:
        if SmsAccount.objects.filter(org=org, owner__isnull=True).exists():
            raise ApiError("account_exists", "该机构已有短信账户", status_code=409)
        if parent is None:
            step = Org.steplen
            ancestor_paths = [org.path[: step * depth] for depth in range(1, org.depth)]
            parent = (
                SmsAccount.objects.filter(org__path__in=ancestor_paths, owner__isnull=True)
                .order_by("-org__depth")
                .first()
            )
    if not _is_operator(actor) and (parent is None or not is_school_admin_of(user=actor, school=parent.org)):
        # Opening an account is for operators and for admins of the org above it.
        raise ApiError("permission_denied", "没有权限为该机构开通短信账户", status_code=403)
    if extension_code is not None:
        if not _EXTENSION.fullmatch(extension_code):
            raise ApiError("extension_code_invalid", "扩展码需为 1–6 位数字")
        if SmsAccount.objects.filter(extension_code=extension_code).exists():
            raise ApiError("extension_code_taken", "扩展码已被占用", status_code=409)
    if not signature:
        if parent is None:
            raise ApiError("signature_invalid", "请填写短信签名", fields={"signature": ["必填"]})
        signature = parent.signature
    default_name = f"{org.name}短信账户" if owner is None else f"{org.name} {owner.name}老师额度"
    account = SmsAccount.objects.create(
        org=org,
        owner=owner,
        parent=parent,
        name=(name or default_name)[:100],
        signature=_signature(signature),
        extension_code=extension_code,
    )
    if extension_code is None:
        _assign_extension(account)
    audit_record(
        action="sms.account_created",
        actor=actor,
        obj=account,
        detail={
            "org_id": org.pk,
            "owner_id": getattr(owner, "pk", None),
            "parent_id": parent.pk if parent else None,
            "signature": account.signature,
            "extension_code": account.extension_code,
        },
    )
    return account


@transaction.atomic
def sms_account_top_up(
    *, account: SmsAccount, segments: int, actor: Any = None, memo: str = "", ref: str = ""
) -> LedgerEntry:
    """Credit purchased segments (an operator's action: money changed hands outside)."""
    _check_segments(segments)
    if not _is_operator(actor):
        raise ApiError("permission_denied", "只有平台运营人员可以充值", status_code=403)
    ledger_apply(
        [Movement(account.pk, LedgerEntry.Kind.TOP_UP, segments=segments, ref=ref or "top_up", memo=memo)],
        actor=actor,
    )
    audit_record(
        action="sms.top_up",
        actor=actor,
        obj=account,
        detail={"segments": segments, "memo": memo, "ref": ref},
    )
    account.refresh_from_db(fields=["balance", "reserved"])
    return LedgerEntry.objects.filter(account=account, kind=LedgerEntry.Kind.TOP_UP).latest("id")


@transaction.atomic
def sms_account_transfer(
    *, source: SmsAccount, target: SmsAccount, segments: int, actor: Any = None, memo: str = "", ref: str = ""
) -> str:
    """Move available segments between an account and its parent or child (funding a
    sub-account, or taking unused quota back). Returns the transfer's ref."""
    _check_segments(segments)
    if target.parent_id == source.pk:
        managed = target
    elif source.parent_id == target.pk:
        managed = source
    else:
        raise ApiError("transfer_not_allowed", "只能在上下级账户之间划拨", status_code=400)
    if not sms_account_may_manage(actor=actor, account=managed):
        raise ApiError("not_found", "账户不存在", status_code=404)
    if target.frozen:
        raise ApiError("account_frozen", "对方账户已冻结", status_code=409)
    ref = ref or f"transfer:{uuid.uuid4().hex[:16]}"
    out = Movement(
        source.pk,
        LedgerEntry.Kind.TRANSFER_OUT,
        segments=-segments,
        ref=ref,
        memo=memo,
        counterparty_id=target.pk,
    )
    if not ledger_debit(movement=out, actor=actor):
        source.refresh_from_db(fields=["frozen", "balance", "reserved"])
        if source.frozen:
            raise ApiError("account_frozen", "账户已冻结", status_code=409)
        raise ApiError("insufficient_quota", f"可用条数不足（可用 {source.available} 条）", status_code=409)
    ledger_apply(
        [
            Movement(
                target.pk,
                LedgerEntry.Kind.TRANSFER_IN,
                segments=segments,
                ref=ref,
                memo=memo,
                counterparty_id=source.pk,
            )
        ],
        actor=actor,
    )
    audit_record(
        action="sms.transfer",
        actor=actor,
        obj=source,
        detail={"from": source.pk, "to": target.pk, "segments": segments, "memo": memo, "ref": ref},
    )
    return ref


@transaction.atomic
def sms_account_set_frozen(*, account: SmsAccount, frozen: bool, actor: Any = None, reason: str = "") -> None:
    """Freeze (no new sends or transfers out) or unfreeze an account. Texts already
    reserved still go out and settle."""
    if not sms_account_may_manage(actor=actor, account=account):
        raise ApiError("not_found", "账户不存在", status_code=404)
    if SmsAccount.objects.filter(pk=account.pk).exclude(frozen=frozen).update(frozen=frozen):
        audit_record(
            action="sms.account_frozen" if frozen else "sms.account_unfrozen",
            actor=actor,
            obj=account,
            detail={"reason": reason},
        )
    account.frozen = frozen


@transaction.atomic
def sms_demo_accounts(*, school: Org) -> SmsAccount:
    """Demo data (seed_demo): the county bureau's account with 100,000 segments funding
    the school's account with 20,000. Idempotent. Returns the school's account."""
    county = Org.objects.get(path=school.path[: -Org.steplen])
    bureau = SmsAccount.objects.filter(org=county, owner__isnull=True).first() or sms_account_create(
        org=county, name=f"{county.name}教育局短信账户", signature=f"【{county.name}教育局】"
    )
    if not LedgerEntry.objects.filter(account=bureau, ref="demo:top_up").exists():
        sms_account_top_up(account=bureau, segments=100_000, ref="demo:top_up", memo="演示数据")
    account = SmsAccount.objects.filter(org=school, owner__isnull=True).first() or sms_account_create(
        org=school, parent=bureau, signature=f"【{school.name}】"
    )
    if not LedgerEntry.objects.filter(account=account, ref="demo:transfer").exists():
        sms_account_transfer(
            source=bureau, target=account, segments=20_000, ref="demo:transfer", memo="演示数据"
        )
    account.refresh_from_db()
    return account
