"""``aicc-sim proxy``: the simulator between an integration and a real tenant, checking both
directions against the contract (the drift report) and recording the conversations."""

from simulator.proxy.app import DRIFT, PUSH_PATH, RECORDING, ProxySettings, create_proxy_app
from simulator.proxy.drift import DriftItem, DriftReport
from simulator.proxy.recording import ProxyRecord

__all__ = [
    "DRIFT",
    "PUSH_PATH",
    "RECORDING",
    "DriftItem",
    "DriftReport",
    "ProxyRecord",
    "ProxySettings",
    "create_proxy_app",
]
