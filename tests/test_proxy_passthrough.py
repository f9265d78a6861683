"""The proxy forwards unchanged, over real sockets, against a scripted upstream that records
what it got: every header of the integration (AccessToken, ccmessaging-token,
X-Token-Expire, any other) and the body bytes reach the tenant; the tenant's status, headers
(a renewed ccmessaging-token included) and body bytes (even compressed ones) come back; a
tenant answer the response schema refuses is in the drift report, and still passed on."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from receivers import Recorder, serving

from simulator.config import ChannelConfig, Config, ListenConfig
from simulator.proxy import DRIFT, RECORDING, ProxySettings, create_proxy_app
from simulator.server import RunningServer, start_server

CCM = "/apiaccess/ccmessaging"
WAIT = 10.0
QUEUE_ANSWER = json.dumps(
    {"resultCode": "0", "resultDesc": "success", "position": 1, "totalWaitTime": 3,
     "currentDeviceWaitTime": 3, "configMaxcWaitTime": 60, "longestWaitTime": 3,
     "estimateWaitTime": 60}
).encode()  # fmt: skip
QUEUE_ASK = b'{"userId":"u1","channelConfigId":"c1","channel":"WEB"}'


@dataclass
class Tenant(Recorder):
    """Answers send with a renewed token header and a resultCode that is not a string (drift);
    anything else with a gzip-compressed JSON body the contract accepts."""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        if request.path == f"{CCM}/send":
            return web.Response(
                status=200,
                body=b'{"resultCode": 0,  "resultDesc":"success"}',
                headers={"Content-Type": "application/json", "ccmessaging-token": "renewed-tok"},
            )
        return web.Response(
            status=200,
            body=gzip.compress(QUEUE_ANSWER),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip",
                     "X-Tenant": "yes"},
        )  # fmt: skip


@pytest.fixture
async def chain() -> AsyncIterator[tuple[Tenant, RunningServer]]:
    tenant = Tenant()
    async with AsyncExitStack() as stack:
        tenant.base_url = await stack.enter_async_context(serving(tenant.handle))
        settings = ProxySettings(
            upstream=tenant.base_url,
            channel=ChannelConfig(
                id="p", app_key="k", access_key="k", callback_url="http://127.0.0.1:9/aicc"
            ),
        )
        proxy = await start_server(
            Config(credentials=(), channels=(), listen=ListenConfig("127.0.0.1", 0)),
            build=lambda _config, _url: create_proxy_app(settings),
        )
        stack.push_async_callback(proxy.stop)
        yield tenant, proxy


async def test_calls_and_answers_pass_unchanged(chain: tuple[Tenant, RunningServer]) -> None:
    tenant, proxy = chain
    headers = {
        "Authorization": "Bearer access-tok",
        "x-app-key": "the-app",
        "ccmessaging-token": "old-tok",
        "X-Token-Expire": "600",
        "X-Trace": "abc",
        "Content-Type": "application/json",
    }
    body = json.dumps(
        {"channel": "WEB", "controlType": "CHAT", "from": "u1", "to": "c1", "mediaType": "TEXT",
         "sourceType": "CUSTOMER", "content": "hi"}, indent=1
    ).encode()  # fmt: skip
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{proxy.url}{CCM}/send?x=1", data=body, headers=headers
        ) as answer:
            assert answer.status == 200
            assert answer.headers["ccmessaging-token"] == "renewed-tok"
            assert await answer.read() == b'{"resultCode": 0,  "resultDesc":"success"}'
        async with http.post(
            f"{proxy.url}{CCM}/queryQueueInfo", data=QUEUE_ASK, headers=headers,
            auto_decompress=False,
        ) as answer:  # fmt: skip
            assert answer.headers["Content-Encoding"] == "gzip"
            assert answer.headers["X-Tenant"] == "yes"
            assert gzip.decompress(await answer.read()) == QUEUE_ANSWER
    sent = tenant.seen[0]
    assert sent.path == f"{CCM}/send?x=1"
    assert sent.body == body
    for name, value in headers.items():
        assert sent.headers[name] == value, name
    await proxy.app[RECORDING].wait_for(lambda r: r.path.endswith("queryQueueInfo"), WAIT)
    items = proxy.app[DRIFT].to_json()["items"]
    refused = [(i["side"], i["what"], i["pointer"]) for i in items]
    assert ("tenant", "response", "/resultCode") in refused, items
    # the compressed answer was checked decompressed (and passed on compressed)
    assert not [i for i in items if i["endpoint"].endswith("queryQueueInfo")], items
    assert "renewed-tok" not in json.dumps(proxy.app[DRIFT].to_json())
