"""The sms_gateway simulator as this process's SMS provider, for the tests that send
through it (tests/sms, the reliability suite's worker and provider faults)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from backend.sms.catalog import PLATFORM_TEMPLATES
from backend.sms.providers import reset_provider
from sms_gateway.simulator import DysmsapiSimulator


@contextmanager
def simulator_as_provider(
    settings: Any,
    *,
    callback_token: str,
    callback_ips: Sequence[str],
    seed: int,
    read_timeout: float | None = None,
    **options: Any,
) -> Iterator[DysmsapiSimulator]:
    """Start a simulator that knows the platform templates (`options`: report_url,
    reply_url, report_batch_size…), point settings at it, and stop it afterwards; the
    provider is rebuilt on the way in and out."""
    sim = DysmsapiSimulator(
        templates={name: t.text for name, t in PLATFORM_TEMPLATES.items()}, seed=seed, **options
    ).start()
    settings.SMS_PROVIDER = "simulator"
    settings.SMS_PROVIDER_OPTIONS = {"endpoint": sim.url}
    if read_timeout is not None:
        settings.SMS_PROVIDER_OPTIONS["read_timeout"] = read_timeout
    settings.SMS_CALLBACK_TOKEN = callback_token
    settings.SMS_CALLBACK_IPS = list(callback_ips)
    reset_provider()
    try:
        yield sim
    finally:
        sim.stop()
        reset_provider()
