"""The application factory: the emulated AICC, the echo receiver and ``/__admin``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp import web

from simulator.config import Config
from simulator.core.journal import Journal
from simulator.core.push import PlannedPush, PushTarget
from simulator.core.validation import SchemaStore, default_store
from simulator.delivery.worker import AttemptRecord, Deliverer
from simulator.server import admin, echo, emulated, keys, live_config
from simulator.server.aicc import Aicc
from simulator.server.journal_entries import RequestRecord
from simulator.server.metrics import Metrics
from simulator.server.middlewares import simulator_middleware

__all__ = ["create_app"]


async def _delivery_ctx(app: web.Application) -> AsyncIterator[None]:
    """One ClientSession and one delivery worker per application, closed on shutdown."""
    config = app[keys.CONFIG]
    session = aiohttp.ClientSession(
        # one slow receiver must not starve the others of connections: no per-host cap
        connector=aiohttp.TCPConnector(limit=1000, limit_per_host=0),
    )
    app[keys.SESSION] = session
    deliveries = app[keys.DELIVERIES]
    metrics = app[keys.METRICS]

    def on_attempt(record: AttemptRecord) -> None:
        deliveries.append(record)
        metrics.delivery(record.verdict)

    deliverer = Deliverer(
        session, policy=config.delivery, store=app[keys.AICC].store, on_attempt=on_attempt
    )
    app[keys.DELIVERER] = deliverer

    def submit(
        conversation: str, target: PushTarget, push: PlannedPush, run_id: str | None
    ) -> bool:
        # a future that is already done was refused at once (a full backlog)
        return not deliverer.submit(conversation, target, push, run_id=run_id).done()

    app[keys.AICC].attach_delivery(submit)
    try:
        yield
    finally:
        app[keys.AICC].conductor.cancel_all()
        await deliverer.close()
        await session.close()
        app[keys.REQUESTS].close()
        deliveries.close()


def create_app(
    config: Config,
    *,
    store: SchemaStore | None = None,
    clock: Callable[[], float] | None = None,
) -> web.Application:
    """A ready-to-run application for ``config``; the caller starts it (``web.run_app``,
    ``AppRunner`` or the test client) and should call ``aicc.set_base_url`` once the port
    is known if the built-in echo receiver is used with port 0.

    ``clock`` (monotonic seconds, default :func:`time.monotonic`) is what token lifetimes
    and queue waits are measured with; tests pass a controllable one to expire tokens."""
    app = web.Application(
        middlewares=[simulator_middleware],
        client_max_size=config.limits.max_body_bytes,
    )
    store = store or default_store()
    app[keys.CONFIG] = config
    app[keys.STARTED] = time.monotonic()
    app[keys.METRICS] = Metrics()
    journal_path = config.journal.path
    app[keys.REQUESTS] = Journal[RequestRecord](
        config.journal.capacity,
        path=f"{journal_path}.requests.jsonl" if journal_path else None,
    )
    app[keys.DELIVERIES] = Journal[Any](
        config.journal.capacity,
        path=f"{journal_path}.deliveries.jsonl" if journal_path else None,
    )
    aicc = Aicc(config, store, clock=clock or time.monotonic, deliveries=app[keys.DELIVERIES])
    app[keys.AICC] = aicc
    app.add_routes(emulated.routes)
    app.add_routes(admin.routes)
    app.add_routes(live_config.routes)
    app.add_routes(echo.routes)
    app.cleanup_ctx.append(_delivery_ctx)
    return app
