"""Writes of the check-ins app (see the modules for the rules)."""

from backend.checkins.reminders import checkins_send_due_reminders

from .campaigns import campaign_aliases_ensure, campaign_close, campaign_create, campaign_update
from .checkins import checkin_submit
from .feedback import checkin_comment_add, checkin_like, checkin_remove, checkin_unlike

__all__ = [
    "campaign_aliases_ensure",
    "campaign_close",
    "campaign_create",
    "campaign_update",
    "checkin_comment_add",
    "checkin_like",
    "checkin_remove",
    "checkin_submit",
    "checkin_unlike",
    "checkins_send_due_reminders",
]
