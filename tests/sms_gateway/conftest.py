"""Fixtures for sms_gateway: a strict fake Dysmsapi, a webhook receiver, the simulator.

Nothing here imports Django; helpers live in sms_gateway_fakes.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sms_gateway_fakes import (
    CallbackReceiver,
    FakeDysmsapi,
    running_callback_receiver,
    running_fake_dysmsapi,
)

from sms_gateway.simulator import DysmsapiSimulator


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    """Shadow the root conftest's Django cache fixture: these tests never touch Django."""


@pytest.fixture
def fake_dysmsapi() -> Iterator[FakeDysmsapi]:
    with running_fake_dysmsapi() as fake:
        yield fake


@pytest.fixture
def callback_receiver() -> Iterator[CallbackReceiver]:
    with running_callback_receiver() as receiver:
        yield receiver


@pytest.fixture
def simulator(callback_receiver: CallbackReceiver) -> Iterator[DysmsapiSimulator]:
    """A running simulator that posts reports and replies to ``callback_receiver``."""
    sim = DysmsapiSimulator(
        report_url=callback_receiver.url("/report"),
        reply_url=callback_receiver.url("/reply"),
        report_batch_size=100,
        templates={"SMS_NOTICE": "${class}有新通知《${title}》，回复1确认"},
        seed=7,
    )
    with sim:
        yield sim
