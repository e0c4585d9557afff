"""Writes of the SMS app. The names other apps call are re-exported here; the
submodules hold accounts, sending, jobs, submission, inbound reports/replies and the
periodic sweep."""

from .accounts import (
    sms_account_create,
    sms_account_may_manage,
    sms_account_set_frozen,
    sms_account_top_up,
    sms_account_transfer,
    sms_demo_accounts,
)
from .inbound import sms_replies_record, sms_reply_mark_handled, sms_reports_record
from .jobs import JobDraft, sms_job_create, sms_job_plan
from .maintenance import sms_reconcile, sms_sweep
from .sending import sms_send_for_users, sms_send_verification_code
from .submission import sms_submit

__all__ = [
    "JobDraft",
    "sms_account_create",
    "sms_account_may_manage",
    "sms_account_set_frozen",
    "sms_account_top_up",
    "sms_account_transfer",
    "sms_demo_accounts",
    "sms_job_create",
    "sms_job_plan",
    "sms_reconcile",
    "sms_replies_record",
    "sms_reply_mark_handled",
    "sms_reports_record",
    "sms_send_for_users",
    "sms_send_verification_code",
    "sms_submit",
    "sms_sweep",
]
