"""Sending texts. Platform texts (login codes) are sent on the platform's own account;
school texts go through SMS accounts with quotas (mass texting, notices)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from sms_gateway.providers.base import SendRequest

from .providers import outgoing_provider, template

logger = logging.getLogger(__name__)


def sms_send_verification_code(*, phone: str, code: str) -> None:
    """Text a login code to `phone` once the surrounding transaction commits."""
    login_template = template("login_code")
    login_template.check({"code": code})

    def send() -> None:
        request = SendRequest(
            sign_name=settings.SMS_SIGN_NAME,
            template_code=login_template.code,
            phones=(phone,),
            params={"code": code},
        )
        results = outgoing_provider().send_batch(request)
        for result in results:
            if not result.accepted:
                logger.warning("login code to %s refused: %s", phone[:3] + "****", result.failure)

    transaction.on_commit(send)
