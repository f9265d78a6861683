"""Testing your error handling: the recipes of docs/faults.md, as the tests they quote.

Each recipe makes the AICC Simulator misbehave in one way a real tenant cannot do on demand,
drives the example backend (or, where the backend has no such code path, a few lines of
client code standing in for yours) and checks how it coped. Each block between ``# recipe:``
and ``# end`` is quoted by the documentation as it stands here.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import pytest

from simulator.testing.pytest_plugin import InProcessSimulator

from .support import Backend

# Scenario waits (the agent's one-second pick-up, ...) twenty times faster.
pytestmark = pytest.mark.aicc_sim_config({"channels": [{"speed": 20}]})


def _calls(aicc_sim: InProcessSimulator) -> list[tuple[str, int]]:
    return [(r["path"].rsplit("/", 1)[-1], r["status"]) for r in aicc_sim.requests()]


# recipe: aicc-down-at-connect
async def test_aicc_down_at_connect(aicc_sim: InProcessSimulator, backend: Backend) -> None:
    with aicc_sim.fault(endpoint="send", control_type="CONNECT", status=503, times=1):
        first = await backend.post("/chat/c-down/connect", json={"name": "Ann"})
        assert first.status == 502  # the widget hears that AICC is unavailable
        # AICC is back for the next try (times=1): the customer connects
        second = await backend.post("/chat/c-down/connect", json={"name": "Ann"})
        assert second.status == 200
    await aicc_sim.await_delivery(user_id="c-down", source_type="AGENT", verdict="accepted")
    [refused] = [r for r in aicc_sim.requests(path="send") if r["fault"]]
    assert refused["status"] == 503 and refused["fault"]["did"] == "answered 503"


# end


# recipe: token-expiry-mid-chat
async def test_access_token_expires_mid_chat(
    aicc_sim: InProcessSimulator, backend: Backend
) -> None:
    await backend.post("/chat/c-exp/connect", json={"name": "Ann"})
    await aicc_sim.await_delivery(user_id="c-exp", source_type="AGENT")
    # the gateway forgets the AccessToken right after this CHAT is answered
    aicc_sim.add_fault(endpoint="send", control_type="CHAT", token="expire_access", times=1)
    for text in ("one", "two"):
        sent = await backend.post("/chat/c-exp/messages", json={"text": text})
        assert sent.status == 200, await sent.text()
    # the second CHAT met the gateway's 403; the backend took a new token and sent it again
    assert _calls(aicc_sim)[-4:] == [
        ("send", 200),
        ("send", 403),
        ("tokenByAkSk", 200),
        ("send", 200),
    ]


# end


# recipe: ccmessaging-token-renewed
async def test_the_ccmessaging_token_is_renewed_mid_chat(
    aicc_sim: InProcessSimulator, backend: Backend
) -> None:
    await backend.post("/chat/c-ren/connect", json={"name": "Ann"})
    await aicc_sim.await_delivery(user_id="c-ren", source_type="AGENT")
    # this CHAT's answer carries a new ccmessaging-token; the old one is refused from now on
    with aicc_sim.fault(endpoint="send", control_type="CHAT", token="renew_ccmessaging", nth=1):
        for text in ("one", "two"):
            sent = await backend.post("/chat/c-ren/messages", json={"text": text})
            assert sent.status == 200, await sent.text()
    assert _calls(aicc_sim)[-2:] == [("send", 200), ("send", 200)]  # no 401: it was taken


# end


# recipe: slow-poll
async def test_a_stalled_poll_is_given_up_and_polled_again(aicc_sim: InProcessSimulator) -> None:
    # (the example backend takes pushes; a poll-mode integration's loop looks like this)
    c = aicc_sim.credentials
    async with aiohttp.ClientSession(base_url=aicc_sim.base_url) as http:
        token = await (
            await http.post(
                "/apigovernance/api/oauth/tokenByAkSk",
                json={"app_key": c.app_key, "app_secret": c.app_secret},
            )
        ).json()
        headers = {"x-app-key": c.app_key, "Authorization": f"Bearer {token['AccessToken']}"}
        applied = await (
            await http.post(
                "/apiaccess/ccmessaging/applyToken",
                json={
                    "userId": "c-poll",
                    "userName": "Ann",
                    "channelId": aicc_sim.channel_id,
                    "locale": "en",
                },
                headers=headers,
            )
        ).json()
        headers["ccmessaging-token"] = applied["token"]
        params = {"receiverId": "c-poll", "channel": "WEB"}

        async def poll(patience: float) -> Any:
            async with http.get(
                "/apiaccess/ccmessaging/poll",
                params=params,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=patience),
            ) as response:
                return await response.json()

        # the next poll stalls for 3 s: more than the client's 0.5 s patience
        aicc_sim.add_fault(endpoint="poll", delay_ms=3000, times=1)
        with pytest.raises(asyncio.TimeoutError):
            await poll(0.5)
        answer = await poll(5)  # the client polls again and is answered
        assert answer["resultCode"] == "0"


# end


# recipe: 429-storm
async def test_a_429_storm_is_ridden_out_with_retry_after(
    aicc_sim: InProcessSimulator,
) -> None:
    # (a client that honours Retry-After; the example backend does not retry sends)
    async def token_with_retries(http: aiohttp.ClientSession) -> dict[str, Any]:
        c = aicc_sim.credentials
        for _ in range(5):
            async with http.post(
                "/apigovernance/api/oauth/tokenByAkSk",
                json={"app_key": c.app_key, "app_secret": c.app_secret},
            ) as response:
                if response.status != 429:
                    answer: dict[str, Any] = await response.json()
                    return answer
                await asyncio.sleep(float(response.headers["Retry-After"]))
        raise AssertionError("still throttled after 5 tries")

    with aicc_sim.fault(endpoint="tokenByAkSk", retry_after=0, times=3):
        async with aiohttp.ClientSession(base_url=aicc_sim.base_url) as http:
            assert "AccessToken" in await token_with_retries(http)
    assert [status for _, status in _calls(aicc_sim)] == [429, 429, 429, 200]


# end


# recipe: push-receiver-outage
async def test_a_push_receiver_outage(aicc_sim: InProcessSimulator, backend: Backend) -> None:
    aicc_sim.expect_violations()  # the refused pushes below are this test's doing
    with socket.socket() as closed:  # a port nobody listens on: the receiver is down
        closed.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{closed.getsockname()[1]}/aicc"
    callback = aicc_sim.config.channels[0].callback_url
    aicc_sim.set_callback(down)
    await backend.post("/chat/c-out/connect", json={"name": "Ann"})
    # AICC tries each push `delivery.attempts` times, then gives it up
    lost = await aicc_sim.await_delivery(user_id="c-out", verdict="connection-error")
    assert lost["url"] == down
    # the receiver is back: what AICC pushes from now on arrives
    assert callback is not None
    aicc_sim.set_callback(callback)
    aicc_sim.inject("c-out", "Are you still there?")
    await aicc_sim.await_delivery(
        user_id="c-out", content="Are you still there?", verdict="accepted"
    )
    conversation = await (await backend.get("/chat/c-out")).json()
    assert "Are you still there?" in [m["content"] for m in conversation["downlinks"]]


# end
