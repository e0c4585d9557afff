"""Moving segments: every change of an account's balance or reservations is one ledger
row plus one conditional UPDATE of the account's cached counters, in one transaction.

The UPDATE carries its own precondition (`WHERE balance - reserved >= n`), so two
concurrent reservations cannot both succeed on the last segments: on PostgreSQL the
second waits for the first's row lock and re-checks the condition; the table's check
constraints are the last line of defence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Q

from backend.sms.models import LedgerEntry, SmsAccount


@dataclass(frozen=True)
class Movement:
    """One ledger row to write: `segments` changes the balance, `held` the reservations."""

    account_id: int
    kind: str
    segments: int = 0
    held: int = 0
    ref: str = ""
    memo: str = ""
    counterparty_id: int | None = None


def _update_counters(movement: Movement, *, require: Q | None = None) -> bool:
    updates: dict[str, Any] = {}
    if movement.segments:
        updates["balance"] = F("balance") + movement.segments
    if movement.held:
        updates["reserved"] = F("reserved") + movement.held
    if not updates:
        return True
    rows = SmsAccount.objects.filter(pk=movement.account_id)
    if require is not None:
        rows = rows.filter(require)
    return rows.update(**updates) == 1


def _entry(movement: Movement, actor: Any) -> LedgerEntry:
    return LedgerEntry(
        account_id=movement.account_id,
        kind=movement.kind,
        segments=movement.segments,
        held=movement.held,
        ref=movement.ref[:160],
        memo=movement.memo[:200],
        counterparty_id=movement.counterparty_id,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )


def _available_at_least(segments: int) -> Q:
    return Q(frozen=False) & Q(balance__gte=F("reserved") + segments)


def ledger_reserve(*, account_id: int, segments: int, ref: str, actor: Any = None, memo: str = "") -> bool:
    """Hold `segments` on an unfrozen account if that many are available; False (and
    nothing written) otherwise."""
    if segments <= 0:
        return True
    movement = Movement(account_id, LedgerEntry.Kind.RESERVE, held=segments, ref=ref, memo=memo)
    with transaction.atomic():
        if not _update_counters(movement, require=_available_at_least(segments)):
            return False
        _entry(movement, actor).save()
    return True


def ledger_debit(*, movement: Movement, actor: Any = None) -> bool:
    """Take segments off the balance of an unfrozen account (a transfer out), only out of
    what is available; False (and nothing written) otherwise."""
    if movement.segments >= 0 or movement.held:
        raise ValueError("a debit takes segments off the balance and holds nothing")
    with transaction.atomic():
        if not _update_counters(movement, require=_available_at_least(-movement.segments)):
            return False
        _entry(movement, actor).save()
    return True


def ledger_apply(movements: Iterable[Movement], *, actor: Any = None) -> None:
    """Write movements that cannot overdraw: credits, charges and releases of held
    segments. Rows with nothing to move are skipped. Accounts are updated in id order so
    that two batches touching the same accounts cannot deadlock."""
    pending = sorted(
        (m for m in movements if m.segments or m.held), key=lambda m: (m.account_id, m.kind, m.ref)
    )
    if not pending:
        return
    with transaction.atomic():
        for movement in pending:
            if not _update_counters(movement):
                raise SmsAccount.DoesNotExist(f"SMS account {movement.account_id} vanished")
        LedgerEntry.objects.bulk_create([_entry(m, actor) for m in pending])
