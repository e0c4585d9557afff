"""Sending texts. Platform texts (login codes) go out on the platform's own account;
school texts (notices, reminders, chat replies) through the school's SMS account, or
the sending teacher's allowance under it, within quota."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction

from backend.accounts.selectors import phones_by_user
from backend.sms.catalog import FREE_TEXT, PLATFORM_TEMPLATES
from backend.sms.models import SmsAccount, SmsMessage, SmsUnsubscribe
from backend.sms.providers import outgoing_provider, provider_supports_free_text
from backend.sms.providers import template as platform_template
from sms_gateway.errors import SmsError
from sms_gateway.phones import check_phone
from sms_gateway.providers.base import SendRequest
from sms_gateway.segments import MessageLengthError
from sms_gateway.templates import Template, TemplateParamsError

from .ledger import ledger_reserve
from .submission import PERSONALISED_BATCH, queue_submission

logger = logging.getLogger(__name__)

CHUNK = 2000
T = TypeVar("T")


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def sms_send_verification_code(*, phone: str, code: str) -> None:
    """Text a login code to `phone` once the surrounding transaction commits."""
    login_template = platform_template("login_code")
    login_template.check({"code": code})

    def send() -> None:
        request = SendRequest(
            sign_name=settings.SMS_SIGN_NAME,
            template_code=login_template.code,
            phones=(phone,),
            params={"code": code},
        )
        try:
            results = outgoing_provider().send_batch(request)
        except SmsError as exc:
            logger.warning("login code to %s not sent: %s", phone[:3] + "****", exc)
            return
        for result in results:
            if not result.accepted:
                logger.warning("login code to %s refused: %s", phone[:3] + "****", result.failure)

    transaction.on_commit(send)


def unsubscribed_phones(phones: Iterable[str]) -> set[str]:
    """The numbers among `phones` that opted out of non-urgent texts (a query per 2,000)."""
    wanted = list(dict.fromkeys(phones))
    found: set[str] = set()
    for chunk in chunked(wanted):
        found.update(SmsUnsubscribe.objects.filter(phone__in=chunk).values_list("phone", flat=True))
    return found


def account_chain_frozen(account: SmsAccount) -> bool:
    """An account is unusable when it or any account above it is frozen (one query)."""
    current: SmsAccount | None = (
        SmsAccount.objects.select_related("parent__parent__parent__parent").filter(pk=account.pk).first()
    )
    while current is not None:
        if current.frozen:
            return True
        current = current.parent
    return False


@dataclass(frozen=True)
class Rendered:
    text: str
    segments: int


def render_for_account(tpl: Template, params: Mapping[str, str], account: SmsAccount) -> Rendered:
    """The text as the phone shows it and its billed segments. Raises TemplateParamsError
    or MessageLengthError."""
    size = tpl.measure(params, signature=account.signature)
    return Rendered(tpl.render_with_signature(params, account.signature), size.segments)


def message_fields(
    *,
    account: SmsAccount,
    source: str,
    sender_id: int | None,
    name: str,
    tpl: Template,
    params: Mapping[str, str],
    rendered: Rendered,
    urgent: bool,
    job_id: int | None = None,
    not_before: datetime | None = None,
) -> dict[str, Any]:
    """Everything of a new message but its recipient (phone, user): the same for every
    message of a send."""
    return {
        "account_id": account.pk,
        "job_id": job_id,
        "source": source,
        "sender_id": sender_id,
        "template": name,
        "template_code": tpl.code,
        "params": dict(params),
        "text": rendered.text,
        "signature": account.signature,
        "extension_code": account.extension_code or "",
        "segments": rendered.segments,
        "urgent": urgent,
        "not_before": not_before,
    }


def new_message(*, phone: str, user_id: int | None, **fields: Any) -> SmsMessage:
    """An unsaved message to `phone`; `fields` as message_fields() takes them."""
    return SmsMessage(phone=phone, user_id=user_id, **message_fields(**fields))


def _paying_account(*, school_id: int | None, sender_id: int | None, needed: int) -> SmsAccount | None:
    if school_id is None:
        return None
    school_account = SmsAccount.objects.filter(org_id=school_id, owner__isnull=True).first()
    if school_account is None:
        return None
    if sender_id is not None:
        allowance = SmsAccount.objects.filter(parent=school_account, owner_id=sender_id).first()
        if allowance is not None and not allowance.frozen and allowance.available >= needed:
            return allowance
    return school_account


def sms_send_for_users(
    *,
    school_id: int | None,
    sender_id: int | None,
    template: str,
    params_by_user: Mapping[int, Mapping[str, str]],
    source: str,
    urgent: bool,
) -> dict[int, str]:
    """Queue the platform template `template` to each user, rendered with their params,
    on the school's account (or the sender's allowance under it while it has enough).

    Call inside a transaction: rows and reservations are written in it, and the texts
    are submitted after commit. Idempotent per (source, phone): a repeated call answers
    "queued" for numbers already queued and reserves nothing again. Per user the answer
    is "queued" or a refusal: no_phone, invalid_phone, unsubscribed (non-urgent only),
    no_account, frozen, no_quota, template_error. Quiet hours are the caller's concern."""
    user_ids = sorted(int(uid) for uid in params_by_user)
    if not user_ids:
        return {}
    name = template
    if name not in PLATFORM_TEMPLATES or (name == FREE_TEXT and not provider_supports_free_text()):
        return dict.fromkeys(user_ids, "template_error")
    tpl = platform_template(name)
    outcomes: dict[int, str] = {}
    phones: dict[int, str] = {}
    for chunk in chunked(user_ids):
        found = phones_by_user(user_ids=chunk)
        for uid in chunk:
            raw = found.get(uid)
            checked = check_phone(raw) if raw else None
            if checked is None:
                outcomes[uid] = "no_phone"
            elif checked.phone is None:
                outcomes[uid] = "invalid_phone"
            else:
                phones[uid] = checked.phone
    already: set[str] = set()
    phone_list = list(phones.values())
    for phone_chunk in chunked(phone_list):
        already.update(
            SmsMessage.objects.filter(source=source, phone__in=phone_chunk).values_list("phone", flat=True)
        )
    blocked = set() if urgent else unsubscribed_phones(p for p in phone_list if p not in already)
    candidates: list[int] = []
    for uid, phone in phones.items():
        if phone in already:
            outcomes[uid] = "queued"
        elif phone in blocked:
            outcomes[uid] = "unsubscribed"
        else:
            candidates.append(uid)
    if not candidates:
        return outcomes
    # Slots arrive through JSON columns; a number must not break the template.
    params_by_user = {uid: {str(k): str(v) for k, v in params_by_user[uid].items()} for uid in candidates}
    school_account = _paying_account(school_id=school_id, sender_id=None, needed=0)
    if school_account is None:
        outcomes.update(dict.fromkeys(candidates, "no_account"))
        return outcomes
    rendered = _render_all(tpl, params_by_user, candidates, school_account, outcomes)
    ready = [uid for uid in candidates if uid in rendered]
    if not ready:
        return outcomes
    needed = sum(rendered[uid].segments for uid in ready)
    account = _paying_account(school_id=school_id, sender_id=sender_id, needed=needed) or school_account
    if account.signature != school_account.signature:
        # An allowance with its own signature: lengths (and so segments) differ.
        rendered = _render_all(tpl, params_by_user, ready, account, outcomes)
        ready = [uid for uid in ready if uid in rendered]
    if account_chain_frozen(account):
        outcomes.update(dict.fromkeys(ready, "frozen"))
        return outcomes
    with transaction.atomic():
        # The lock serialises this account's senders, so the prefix that fits is exact.
        locked = SmsAccount.objects.select_for_update().get(pk=account.pk)
        available, fitting, total = locked.available, [], 0
        for uid in ready:
            if total + rendered[uid].segments > available:
                break
            total += rendered[uid].segments
            fitting.append(uid)
        if not fitting or not ledger_reserve(
            account_id=locked.pk, segments=total, ref=f"source:{source}", memo=f"{len(fitting)} 条"
        ):
            outcomes.update(dict.fromkeys(ready, "no_quota"))
            return outcomes
        rows = [
            new_message(
                account=locked,
                source=source,
                phone=phones[uid],
                user_id=uid,
                sender_id=sender_id,
                name=name,
                tpl=tpl,
                params=params_by_user[uid],
                rendered=rendered[uid],
                urgent=urgent,
            )
            for uid in fitting
        ]
        created = SmsMessage.objects.bulk_create(rows, batch_size=CHUNK)
        queue_submission([m.pk for m in created], batch_size=PERSONALISED_BATCH)
    outcomes.update(dict.fromkeys(ready, "no_quota"))
    outcomes.update(dict.fromkeys(fitting, "queued"))
    return outcomes


def _render_all(
    tpl: Template,
    params_by_user: Mapping[int, Mapping[str, str]],
    user_ids: Iterable[int],
    account: SmsAccount,
    outcomes: dict[int, str],
) -> dict[int, Rendered]:
    rendered: dict[int, Rendered] = {}
    for uid in user_ids:
        try:
            rendered[uid] = render_for_account(tpl, params_by_user[uid], account)
        except (TemplateParamsError, MessageLengthError):
            outcomes[uid] = "template_error"
    return rendered
