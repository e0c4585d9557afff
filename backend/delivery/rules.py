"""Pure decisions: quiet hours and which channels reach one recipient.

No database here, so the channel matrix is tested as a table."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_QUIET = (time(21, 0), time(7, 0))


def quiet_until(now: datetime, start: time, end: time) -> datetime | None:
    """If `now` falls in the quiet window [start, end) (Asia/Shanghai), the moment it ends;
    otherwise None. The window may cross midnight (21:00–07:00) or not (12:00–14:00)."""
    if start == end:
        return None
    local = now.astimezone(SHANGHAI)
    t = local.time()
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=SHANGHAI)


class Timing(enum.StrEnum):
    NO = "no"
    NOW = "now"
    HELD = "held"  # quiet hours: at the end of the window
    DIGEST = "digest"  # the recipient wants a daily summary of non-urgent items


@dataclass(frozen=True)
class Recipient:
    online: bool  # a socket is open right now (any ASGI process)
    has_app: bool  # a registered device and an app login
    prefers_sms: bool = False
    sms_enabled: bool = True  # the recipient accepts non-urgent texts
    reachable_by_sms: bool = True  # a valid, subscribed mobile number
    digest: bool = False
    muted: bool = False


@dataclass(frozen=True)
class Plan:
    push: Timing
    sms: Timing


def plan_channels(r: Recipient, *, urgent: bool, quiet: bool, sms_offered: bool) -> Plan:
    """The realtime event always goes (the event log); this decides push and SMS.

    - Push goes to app users who are not connected right now; urgent items push to
      every app user. Quiet hours hold non-urgent pushes; digest users get a summary.
    - SMS goes to people without the app, or who prefer SMS, when the sender offers an
      SMS version; a recipient who turned SMS off, or is unsubscribed, gets none unless
      the item is urgent and the number is still valid. Quiet hours hold it.
    - A muted source sends neither push nor SMS unless urgent.
    """
    if r.muted and not urgent:
        return Plan(Timing.NO, Timing.NO)

    push = Timing.NO
    if r.has_app and (urgent or not r.online):
        if urgent:
            push = Timing.NOW
        elif quiet:
            push = Timing.HELD
        elif r.digest:
            push = Timing.DIGEST
        else:
            push = Timing.NOW

    sms = Timing.NO
    wants_sms = not r.has_app or r.prefers_sms
    if sms_offered and wants_sms and r.reachable_by_sms and (r.sms_enabled or urgent):
        sms = Timing.NOW if (urgent or not quiet) else Timing.HELD
    return Plan(push, sms)
