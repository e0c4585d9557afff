"""Local Dysmsapi simulator: ``DysmsapiSimulator`` (also ``python -m sms_gateway simulate``)."""

from sms_gateway.simulator.actions import SimulatedSend
from sms_gateway.simulator.server import DysmsapiSimulator

__all__ = ["DysmsapiSimulator", "SimulatedSend"]
