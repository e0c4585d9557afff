from __future__ import annotations

from django.urls import URLPattern, path

from .callbacks import ReplyCallbackView, ReportCallbackView
from .views_accounts import (
    AccountDetailView,
    AccountLedgerView,
    AccountListView,
    AccountTransferView,
    TemplateListView,
)
from .views_jobs import JobDetailView, JobListCreateView, JobPreviewView
from .views_messages import MessageListView, ReplyHandledView, ReplyListView

urlpatterns: list[URLPattern] = [
    path("sms/accounts/", AccountListView.as_view(), name="sms-accounts"),
    path("sms/accounts/<int:account_id>/", AccountDetailView.as_view(), name="sms-account"),
    path("sms/accounts/<int:account_id>/ledger/", AccountLedgerView.as_view(), name="sms-account-ledger"),
    path(
        "sms/accounts/<int:account_id>/transfers/", AccountTransferView.as_view(), name="sms-account-transfer"
    ),
    path("sms/templates/", TemplateListView.as_view(), name="sms-templates"),
    path("sms/jobs/preview/", JobPreviewView.as_view(), name="sms-job-preview"),
    path("sms/jobs/", JobListCreateView.as_view(), name="sms-jobs"),
    path("sms/jobs/<int:job_id>/", JobDetailView.as_view(), name="sms-job"),
    path("sms/messages/", MessageListView.as_view(), name="sms-messages"),
    path("sms/replies/", ReplyListView.as_view(), name="sms-replies"),
    path("sms/replies/<int:reply_id>/handled/", ReplyHandledView.as_view(), name="sms-reply-handled"),
    path("sms/callbacks/<str:provider>/report/", ReportCallbackView.as_view(), name="sms-callback-report"),
    path("sms/callbacks/<str:provider>/reply/", ReplyCallbackView.as_view(), name="sms-callback-reply"),
]
