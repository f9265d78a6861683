"""The HTTP connection handler: aiohttp's, with a deadline on request heads and JSON answers
(one log line, no traceback) for requests aiohttp cannot even parse.

aiohttp bounds how long an idle kept-alive connection may stay open, but not how long a
client may take to send a request's head: a client that dribbles a header byte now and then
(slowloris) holds its connection forever. Here every request head must be complete within
``head_timeout`` seconds of its first byte (or of the connection's start), else the
connection is closed and counted. The body's deadline is the handler's (:func:`read_json`
reads it under ``limits.body_timeout``).

Malformed HTTP (a NUL in a header, a bad chunk size, Content-Length beside
Transfer-Encoding, a bad method) is answered by aiohttp before any handler runs, in plain
text and with a traceback in the log; here it is answered with the gateway's JSON error shape
and logged in one line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from simulator.server.front_door import FRONT_DOOR
from simulator.server.http import error_body, json_response

__all__ = ["GuardedAppRunner", "GuardedRequestHandler", "GuardedServer"]

log = logging.getLogger("simulator.server")


class GuardedRequestHandler(RequestHandler):
    """One connection: aiohttp's handler plus the head deadline and JSON parse errors."""

    #: seconds a request head may take from its first byte (0: no deadline)
    head_timeout: float = 0.0
    #: called once for each connection closed for a slow head
    on_slow_head: Callable[[], None] | None = None
    _head_timer: asyncio.TimerHandle | None = None
    _idle = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_head()

    def data_received(self, data: bytes) -> None:
        before = self._request_count
        super().data_received(data)
        if self._request_count != before:  # a whole head arrived: the handler takes over
            self._idle = False
            self._disarm_head()
        elif self._idle and self._head_timer is None and data:
            self._arm_head()  # the first bytes of the next head on a kept-alive connection

    def log_access(
        self, request: BaseRequest, response: StreamResponse, time: float | None
    ) -> None:
        super().log_access(request, response, time)
        self._idle = True  # answered: the next bytes start a new head

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm_head()
        super().connection_lost(exc)

    def _arm_head(self) -> None:
        if self.head_timeout > 0:
            self._head_timer = self._loop.call_later(self.head_timeout, self._head_too_slow)

    def _disarm_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        log.info(
            "closed a connection whose request head took over %g s (limits.head_timeout)",
            self.head_timeout,
        )
        if self.on_slow_head is not None:
            self.on_slow_head()
        self.force_close()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> StreamResponse:
        """A request aiohttp refused before any handler (or a failure outside the
        front door): the JSON error shape, one log line, the connection closed."""
        reason = message or (str(exc) if exc is not None else None) or "malformed request"
        if status >= 500:
            self.log_exception("error answering a request from %s", request.remote, exc_info=exc)
        else:
            log.warning("refused malformed HTTP from %s: %s", request.remote, reason)
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was already being sent; the connection is closed")
        body = error_body(status, f"malformed HTTP request: {reason}")
        response = json_response(body, status=status)
        response.force_close()
        return response


class GuardedServer(web.Server):
    """aiohttp's protocol factory, making :class:`GuardedRequestHandler` connections."""

    def __init__(
        self,
        *args: Any,
        head_timeout: float,
        on_slow_head: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout = head_timeout
        self.on_slow_head = on_slow_head

    def __call__(self) -> RequestHandler:
        handler = GuardedRequestHandler(self, loop=self._loop, **self._kwargs)
        handler.head_timeout = self.head_timeout
        handler.on_slow_head = self.on_slow_head
        return handler


class GuardedAppRunner(web.AppRunner):
    """``web.AppRunner`` whose connections are :class:`GuardedRequestHandler` ones."""

    def __init__(
        self,
        app: web.Application,
        *,
        head_timeout: float,
        on_slow_head: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(app, **kwargs)
        self._head_timeout = head_timeout
        self._on_slow_head = on_slow_head

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()  # the app's startup, as aiohttp does it
        # a simulator app is answered through its front door (server/front_door.py)
        front = self._app.get(FRONT_DOOR)
        return GuardedServer(
            made.request_handler if front is None else front.handle,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            head_timeout=self._head_timeout,
            on_slow_head=self._on_slow_head,
            **made._kwargs,
        )
