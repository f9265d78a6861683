"""Typed application state (``web.AppKey``), the only place these keys are defined."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from simulator.config import Config
from simulator.core.journal import Journal
from simulator.delivery.worker import AttemptRecord, Deliverer
from simulator.server.aicc import Aicc
from simulator.server.journal_entries import RequestRecord
from simulator.server.metrics import Metrics

__all__ = [
    "AICC",
    "CONFIG",
    "DELIVERER",
    "DELIVERIES",
    "METRICS",
    "REQUESTS",
    "SESSION",
    "STARTED",
]

CONFIG = web.AppKey("config", Config)
AICC = web.AppKey("aicc", Aicc)
REQUESTS = web.AppKey("requests", Journal[RequestRecord])
DELIVERIES = web.AppKey("deliveries", Journal[AttemptRecord])
DELIVERER = web.AppKey("deliverer", Deliverer)
SESSION = web.AppKey("client_session", aiohttp.ClientSession)
METRICS = web.AppKey("metrics", Metrics)
STARTED = web.AppKey("started", float)
