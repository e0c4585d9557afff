"""What providers tell us: delivery reports (状态报告) settle texts; replies (上行)
unsubscribe a number (T/TD/退订) or go to the reply router."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from backend.audit.services import audit_record
from backend.sms.models import MessageState, SmsAccount, SmsMessage, SmsReply, SmsUnsubscribe
from backend.sms.replies import InboundReply, route_reply
from sms_gateway.callbacks import DeliveryReport, Reply
from sms_gateway.phones import check_phone

from .settlement import SETTLEABLE, Outcome, settle

logger = logging.getLogger(__name__)

REPORT_CHUNK = 500
UNSUBSCRIBE_WORDS = frozenset({"T", "TD", "退订"})
_SPACES = re.compile(r"\s+")


def sms_reports_record(*, reports: Sequence[DeliveryReport]) -> int:
    """Settle the texts the reports are about (matched by biz id and phone, or by our
    out_id and phone for a report that beat our own bookkeeping). Reports about texts
    already settled, or unknown to us, are ignored. Returns how many texts changed."""
    changed = 0
    for start in range(0, len(reports), REPORT_CHUNK):
        changed += _record_chunk(reports[start : start + REPORT_CHUNK])
    return changed


def _record_chunk(reports: Sequence[DeliveryReport]) -> int:
    phones = {check_phone(r.phone).phone or r.phone for r in reports}
    biz_ids = {r.biz_id for r in reports if r.biz_id}
    out_ids = {r.out_id for r in reports if r.out_id}
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            SmsMessage.objects.select_for_update()
            .filter(Q(biz_id__in=biz_ids) | Q(out_id__in=out_ids), phone__in=phones)
            .only("id", "account_id", "job_id", "phone", "biz_id", "out_id", "state", "billing", "segments")
            .order_by("id")
        )
        by_biz = {(m.biz_id, m.phone): m for m in rows if m.biz_id}
        by_out = {(m.out_id, m.phone): m for m in rows if m.out_id}
        outcomes: dict[int, Outcome] = {}
        for report in reports:
            phone = check_phone(report.phone).phone or report.phone
            message = by_biz.get((report.biz_id, phone)) or by_out.get((report.out_id or "", phone))
            if message is None or message.pk in outcomes or message.state not in SETTLEABLE:
                continue
            at = report.report_time or now
            if report.success:
                outcomes[message.pk] = Outcome(message, MessageState.DELIVERED, at)
            else:
                outcomes[message.pk] = Outcome(
                    message, MessageState.FAILED, at, report.err_code or "UNDELIVERED", report.err_msg
                )
        return settle(list(outcomes.values()), ref="report")


def is_unsubscribe(content: str) -> bool:
    """T, TD or 退订, whatever the case, width or spacing."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", content)).upper() in UNSUBSCRIBE_WORDS


def _user_id_by_phone(phone: str) -> int | None:
    user_id: int | None = (
        get_user_model()
        ._default_manager.filter(phone=phone, is_active=True)
        .values_list("pk", flat=True)
        .first()
    )
    return user_id


def sms_replies_record(*, replies: Sequence[Reply]) -> list[SmsReply]:
    """Store each reply once (by phone and the provider's sequence id), then unsubscribe
    or route it. Returns the replies stored now (duplicates are skipped)."""
    stored = []
    for reply in replies:
        phone = check_phone(reply.phone).phone
        if phone is None:
            logger.warning("SMS reply from an invalid number ignored")
            continue
        try:
            with transaction.atomic():
                row = _record_reply(reply, phone)
        except IntegrityError:
            row = None  # a concurrent copy of the same reply won
        if row is not None:
            stored.append(row)
    return stored


def _record_reply(reply: Reply, phone: str) -> SmsReply | None:
    if (
        reply.sequence_id is not None
        and SmsReply.objects.filter(phone=phone, sequence_id=reply.sequence_id).exists()
    ):
        return None
    account = SmsAccount.objects.filter(extension_code=reply.dest_code).first() if reply.dest_code else None
    sent = SmsMessage.objects.filter(phone=phone)
    if account is not None:
        sent = sent.filter(account=account)
    latest = sent.exclude(state=MessageState.FAILED).order_by("-id").first() or sent.order_by("-id").first()
    if account is None and latest is not None:
        account = latest.account
    user_id = latest.user_id if latest is not None and latest.user_id else _user_id_by_phone(phone)
    row = SmsReply.objects.create(
        phone=phone,
        content=reply.content[:500],
        account=account,
        user_id=user_id,
        source=latest.source if latest is not None else "",
        dest_code=reply.dest_code[:32],
        sequence_id=reply.sequence_id,
        received_at=reply.send_time or timezone.now(),
    )
    if is_unsubscribe(reply.content):
        _unsubscribe(row)
        row.routed_to, row.handled = "unsubscribe", True
    else:
        inbound = InboundReply(
            phone=phone,
            content=reply.content,
            received_at=row.received_at,
            account_id=account.pk if account is not None else None,
            source=row.source or None,
            user_id=user_id,
        )
        routed = route_reply(inbound)
        row.routed_to, row.handled = routed, bool(routed)
    row.save(update_fields=["routed_to", "handled"])
    return row


def _unsubscribe(reply: SmsReply) -> None:
    unsubscribe, created = SmsUnsubscribe.objects.get_or_create(
        phone=reply.phone, defaults={"reply": reply, "account": reply.account}
    )
    if created:
        audit_record(
            action="sms.unsubscribed",
            obj=unsubscribe,
            actor_label=f"{reply.phone[:3]}****{reply.phone[-4:]}",
            detail={"reply_id": reply.pk, "account_id": reply.account_id, "via": "reply"},
        )


def sms_reply_mark_handled(*, reply: SmsReply, actor: Any) -> None:
    """A school admin dealt with an unrouted reply."""
    if not reply.handled:
        SmsReply.objects.filter(pk=reply.pk).update(handled=True)
        reply.handled = True
        audit_record(action="sms.reply_handled", actor=actor, obj=reply)
