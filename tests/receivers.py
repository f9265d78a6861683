"""The recording push receiver shared by the delivery, replay and check-callback tests.

Each test module subclasses :class:`Recorder` with the answers it needs and serves it with
:func:`serving` (a real socket on 127.0.0.1, port 0). The server tests have their own,
richer receiver in ``conftest.py``.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from simulator.core import signing
from simulator.core.errors import SignatureError

__all__ = ["Recorder", "Seen", "serving", "signature_verifies"]


@dataclass
class Seen:
    """One request the receiver got, as sent (``path`` is the raw path, which is what an
    auth-v2 signature covers)."""

    method: str
    path: str
    headers: CIMultiDict[str]
    body: bytes

    @property
    def document(self) -> Any:
        return json.loads(self.body)

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.document["messages"]
        return messages

    @property
    def contents(self) -> list[Any]:
        return [m["content"] for m in self.messages]


@dataclass
class Recorder:
    """Records every request in arrival order; subclasses decide the answers."""

    base_url: str = ""
    seen: list[Seen] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The callback URL the tests give the simulator."""
        return self.base_url + "/aicc"

    def on(self, path: str) -> list[Seen]:
        """The requests to ``path``."""
        return [s for s in self.seen if s.path == path]

    async def record(self, request: web.Request) -> Seen:
        """Read and keep ``request``."""
        body = await request.read()
        seen = Seen(request.method, request.raw_path, CIMultiDict(request.headers), body)
        self.seen.append(seen)
        return seen


@asynccontextmanager
async def serving(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[str]:
    """Serve ``handler`` for every method and path on 127.0.0.1, port 0; yields the base
    URL (``http://127.0.0.1:PORT``, ``https://`` with ``tls``)."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
        await site.start()
        scheme = "https" if tls is not None else "http"
        yield f"{scheme}://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def signature_verifies(request: web.Request, body: bytes, push_key: str) -> bool:
    """Whether the request's auth-v2 header verifies, as an integration would check it."""
    try:
        signing.verify(
            request.headers.get("Authorization"),
            method=request.method,
            path=request.raw_path,
            headers=request.headers,
            body=body,
            push_key=push_key,
        )
    except SignatureError:
        return False
    return True
