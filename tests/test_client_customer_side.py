"""The admin client's helpers for the customer-side capabilities (``satisfaction()``,
``calls()``, ``call_event(...)``), against a real simulator: what the customer's calls did
is what the helpers read, and an event the helper queues is what the customer's
getClickToCallEvents answers. The same methods are the pytest fixture's (``aicc_sim``)."""

from __future__ import annotations

import asyncio

import pytest
from conftest import CCM, GREETING, RecordingReceiver, Sim

from simulator.core.errors import AdminApiError
from simulator.testing.client import AdminClient
from simulator.testing.inprocess import InProcessSimulator


async def test_satisfaction_lists_the_ratings_with_filters(
    sim: Sim, receiver: RecordingReceiver
) -> None:
    client = AdminClient(sim.base_url, poll_interval=0.01)
    rated = sim.customer("client-rated")
    await rated.connect()
    await receiver.wait_message("client-rated", content=GREETING)
    body = {
        "channel": "WEB",
        "userId": "client-rated",
        "evaluation": "4",
        "comment": "fine",
        "channelConfigId": rated.channel_id,
    }
    assert (await rated.call("saveSatisfaction", body)).json["resultCode"] == "0"
    unrated = sim.customer("client-unrated")
    await unrated.login()
    refused = {**body, "userId": "client-unrated"}
    assert (await unrated.call("saveSatisfaction", refused)).json["resultCode"] == "13"

    every = await asyncio.to_thread(client.satisfaction)
    assert [(r["userId"], r["accepted"], r["evaluation"]) for r in every] == [
        ("client-rated", True, "4"),
        ("client-unrated", False, "4"),
    ]
    accepted = await asyncio.to_thread(client.satisfaction, accepted=True)
    assert [r["userId"] for r in accepted] == ["client-rated"]
    refused_only = await asyncio.to_thread(client.satisfaction, accepted=False, kind="agent")
    assert [r["resultCode"] for r in refused_only] == ["13"]
    assert await asyncio.to_thread(client.satisfaction, kind="robot") == []
    mine = await asyncio.to_thread(client.satisfaction, user_id="client-rated")
    assert mine == [every[0]]
    later = await asyncio.to_thread(client.satisfaction, since=every[0]["seq"])
    assert later == [every[1]]


async def test_call_event_reaches_the_customers_events_poll(
    sim: Sim, receiver: RecordingReceiver
) -> None:
    client = AdminClient(sim.base_url, poll_interval=0.01)
    customer = sim.customer("client-caller")
    await customer.connect()
    await receiver.wait_message("client-caller", content=GREETING)
    created = await customer.call("v1/createClickToCall", {"channel": "WEB", "mediaAbility": "0"})
    assert created.json["resultCode"] == "0", created.text
    [call] = await asyncio.to_thread(client.calls)
    assert (call["userId"], call["mediaAbility"]) == ("client-caller", "0")
    assert call["runId"] is not None  # the channel's call scenario plays the events

    answer = await asyncio.to_thread(
        client.call_event, "client-caller", "failed", causeId="42", result_desc="CTI down"
    )
    assert answer["resultDesc"] == "CTI down"
    assert answer["content"]["causeId"] == 42  # numeric ids by default
    # the customer's polls answer the scenario's events, then the injected one
    seen = []
    for _ in range(10):
        reply = await sim.request(
            "GET",
            f"{CCM}/v1/getClickToCallEvents",
            headers=customer.headers(),
            params={"channel": "WEB"},
        )
        assert reply.status == 200, reply.text
        seen.append(reply.json)
        if reply.json == answer:
            break
    assert seen[-1] == answer
    [call] = await asyncio.to_thread(client.calls)
    assert call["state"] == "ended" and call["events"][-1] == "failed"


async def test_call_event_errors_carry_the_servers_reason(sim: Sim) -> None:
    client = AdminClient(sim.base_url, poll_interval=0.01)
    with pytest.raises(AdminApiError) as caught:
        await asyncio.to_thread(client.call_event, "u1", "ringing")
    assert caught.value.status == 400 and "/event" in str(caught.value)
    with pytest.raises(AdminApiError) as caught:
        await asyncio.to_thread(client.call_event, "u1", "queuing", channel_id="nope")
    assert caught.value.status == 404 and "no channel 'nope'" in str(caught.value)
    with pytest.raises(AdminApiError) as caught:
        await asyncio.to_thread(client.satisfaction, limit="x")  # type: ignore[arg-type]
    assert caught.value.status == 400 and "/limit" in str(caught.value)


def test_the_pytest_fixtures_simulator_has_the_helpers() -> None:
    with InProcessSimulator.from_overrides({"channels.0.speed": 50}) as aicc_sim:
        assert aicc_sim.satisfaction() == [] and aicc_sim.calls() == []
        answer = aicc_sim.call_event("u1", "connected", gwAddresses=["198.51.100.7:443"])
        assert answer["resultDesc"] == "Call connected"
        assert answer["content"]["gwAddresses"] == ["198.51.100.7:443"]
        assert answer["eventId"] == 168101
