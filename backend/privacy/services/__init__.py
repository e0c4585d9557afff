"""Writes of the privacy app. Other apps call `privacy_require_consent`, `privacy_audit_read`
and (the demo seed) `privacy_demo_consents`."""

from .consents import consent_grant, consent_withdraw, privacy_demo_consents, privacy_require_consent
from .reads import privacy_audit_read
from .requests import deletion_request, export_request

__all__ = [
    "consent_grant",
    "consent_withdraw",
    "deletion_request",
    "export_request",
    "privacy_audit_read",
    "privacy_demo_consents",
    "privacy_require_consent",
]
