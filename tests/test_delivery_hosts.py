"""Each receiver host has its own push-connection budget (hardening defect 8): conversations
stuck on a slow receiver cannot take the connections a healthy receiver's pushes need."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import WAIT, MakeSim, RecordingReceiver, channel_doc, config_doc

BUDGET = 3


@pytest.fixture
async def healthy(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> AsyncIterator[RecordingReceiver]:
    recv = RecordingReceiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recv.handle)
    server = await aiohttp_server(app)
    recv.base_url = str(server.make_url("")).rstrip("/")
    yield recv


async def test_a_stuck_receiver_cannot_take_a_healthy_ones_connections(
    make_sim: MakeSim, receiver: RecordingReceiver, healthy: RecordingReceiver
) -> None:
    receiver.default_action = "hold"  # the slow receiver answers nothing until released
    sim = await make_sim(
        config_doc(
            [channel_doc(receiver.url)],
            delivery={"attempts": 1, "timeout": 30.0, "max_connections_per_host": BUDGET},
        )
    )
    stuck = 4 * BUDGET
    for n in range(stuck):
        reply = await sim.admin("POST", "/scenarios/queuing/runs", json_body={"userId": f"s{n}"})
        assert reply.status == 201, reply.text
    # the slow host gets exactly its budget of connections; the other pushes wait for them
    await receiver.wait_until(lambda: len(receiver.pushes) >= BUDGET, "the budget used")
    reply = await sim.admin(
        "POST",
        "/scenarios/queuing/runs",
        json_body={"userId": "healthy-user", "callbackUrl": healthy.url},
    )
    assert reply.status == 201, reply.text
    # the healthy receiver is served at once, while the slow one still holds everything
    message = await asyncio.wait_for(healthy.wait_message("healthy-user"), WAIT)
    assert message["to"] == "healthy-user"
    assert len(receiver.pushes) == BUDGET
    receiver.release.set()
    await receiver.wait_until(lambda: len(receiver.pushes) == stuck, "every stuck push sent")
