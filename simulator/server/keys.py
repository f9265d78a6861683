"""Typed application state (``web.AppKey``), the only place these keys are defined."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from simulator.config import Config
from simulator.core.journal import Journal
from simulator.delivery.worker import AttemptRecord, Deliverer
from simulator.server.aicc import Aicc
from simulator.server.click_to_call import ClickToCallService
from simulator.server.journal_entries import RequestRecord
from simulator.server.metrics import Metrics
from simulator.server.phrases import PhraseService
from simulator.server.satisfaction import SatisfactionService

__all__ = [
    "AICC",
    "CLICK_TO_CALL",
    "CONFIG",
    "DELIVERER",
    "DELIVERIES",
    "METRICS",
    "PHRASES",
    "REQUESTS",
    "SATISFACTION",
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
# the customer-side capabilities (their *_routes modules install them)
SATISFACTION = web.AppKey("satisfaction", SatisfactionService)
PHRASES = web.AppKey("phrases", PhraseService)
CLICK_TO_CALL = web.AppKey("click_to_call", ClickToCallService)
