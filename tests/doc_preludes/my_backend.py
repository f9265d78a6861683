"""Prelude of the docs' fixture examples (tests/test_doc_blocks.py puts it before them): the
names they take as given, played by the example integration in examples/webchat_backend/."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from types import SimpleNamespace
from typing import Any

from aiohttp import web
from webchat_backend import Settings, create_app
from webchat_backend.tests.support import settings_for

__all__ = ["create_app", "settings_for", "start_my_backend"]


class _Backend:
    """The example backend served on its own loop in a thread, driven over HTTP like a
    browser would drive an integration's widget API."""

    def __init__(self, settings: Settings) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.url = ""
        threading.Thread(target=self._serve, args=(settings,), daemon=True).start()
        if not self._ready.wait(10):
            raise RuntimeError("the example backend did not start")

    def _serve(self, settings: Settings) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            runner = web.AppRunner(create_app(settings))
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
            self._ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def customer_connects(self, customer: str) -> None:
        """The widget's connect: tokenByAkSk, applyToken and a CONNECT, by the backend."""
        self._call("POST", f"/chat/{customer}/connect", {"name": customer})

    def conversation(self, customer: str) -> SimpleNamespace:
        """What the backend knows of the customer's conversation."""
        state = self._call("GET", f"/chat/{customer}")
        return SimpleNamespace(ended_by=state.get("endedBy"), **state)


def start_my_backend(*, aicc_url: str, app_key: str, app_secret: str, channel_id: str) -> _Backend:
    """Your integration, started against the simulator."""
    return _Backend(
        Settings(aicc_url=aicc_url, app_key=app_key, app_secret=app_secret, channel_id=channel_id)
    )
