"""The front door (errors as JSON, the admin token, the journal) is the same whichever way
the app is served: around the app by ``start_server`` (no aiohttp middleware at all), or as
the app's first middleware when someone serves ``create_app`` with aiohttp's own runner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from simulator.config import load_config
from simulator.server.app import create_app
from simulator.server.front_door import FRONT_DOOR
from simulator.server.journal_entries import REQUESTS

Client = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


def _app(*, front_door: bool) -> web.Application:
    config = load_config(None, environ={})
    config = replace(config, admin=replace(config.admin, token="door-token"))
    return create_app(config, front_door=front_door)


async def test_an_app_served_by_aiohttps_runner_keeps_its_front_door(
    aiohttp_client: Client,
) -> None:
    app = _app(front_door=False)
    assert FRONT_DOOR not in app and len(app.middlewares) == 1
    client = await aiohttp_client(app)
    refused = await client.get("/__admin/sessions")
    assert refused.status == 401  # the admin token is checked
    assert (await refused.json())["errorCode"] == "401"
    missing = await client.post("/apiaccess/nowhere", data=b"{}")
    assert missing.status == 404 and (await missing.json())["errorCode"] == "404"
    assert [entry.item.path for entry in app[REQUESTS].list()] == ["/apiaccess/nowhere"]


def test_start_server_asks_for_the_door_around_the_app() -> None:
    app = _app(front_door=True)
    assert app[FRONT_DOOR] is not None
    assert list(app.middlewares) == []  # aiohttp adds no middleware of its own then
