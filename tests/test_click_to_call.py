"""Click-to-call over real sockets: checkClickToCallSupport, createClickToCall, the
getClickToCallEvents long poll fed by the call scenarios and the admin API, dropClickToCall,
the configurable choices (codes, id types, ids) and a specific 400 for bad input."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import (
    CCM,
    CHANNEL,
    WAIT,
    Customer,
    MakeSim,
    RecordingReceiver,
    Reply,
    Sim,
    channel_doc,
    config_doc,
    valid,
    with_agent,
)

from simulator.core.clock import VirtualClock


async def support(customer: Customer, path: str = f"{CCM}/v1/checkClickToCallSupport") -> Reply:
    return await customer.sim.request(
        "GET", path, headers=customer.headers(), params={"channel": "WEB"}
    )


async def create(customer: Customer, media: Any = "0") -> Reply:
    return await customer.call("v1/createClickToCall", {"channel": "WEB", "mediaAbility": media})


async def event(customer: Customer, path: str = f"{CCM}/v1/getClickToCallEvents") -> Any:
    reply = await customer.sim.request(
        "GET", path, headers=customer.headers(), params={"channel": "WEB"}
    )
    return valid("click-to-call-events-response", reply)


async def next_event(customer: Customer) -> Any:
    """The next real event: polls until one comes (each empty poll waits out its window)."""
    for _ in range(20):
        answer = await event(customer)
        if "eventId" in answer:
            return answer
    raise AssertionError("no call event came")


async def drop(customer: Customer) -> Reply:
    return await customer.call("v1/dropClickToCall", {"channel": "WEB"})


async def test_support_flags(make_sim: MakeSim, receiver: RecordingReceiver) -> None:
    sim = await make_sim(
        config_doc(
            [
                channel_doc(receiver.url),
                channel_doc(
                    receiver.url,
                    id="2",
                    click_to_call={"supported": False, "webrtc_supported": False},
                ),
            ]
        )
    )
    on = sim.customer("flags-1")
    await on.login()
    expected = {
        "resultCode": "0",
        "resultDesc": "",
        "webRTCSupported": True,
        "clickToCallSupported": True,
    }
    assert valid("click-to-call-support-response", await support(on)) == expected
    # the devg examples' path without v1 answers the same
    assert (
        valid("click-to-call-support-response", await support(on, f"{CCM}/checkClickToCallSupport"))
        == expected
    )
    off = sim.customer("flags-2", channel_id="2")
    await off.login()
    answer = valid("click-to-call-support-response", await support(off))
    assert (answer["webRTCSupported"], answer["clickToCallSupported"]) == (False, False)
    assert (await create(off)).json == {
        "resultCode": "7",
        "resultDesc": "The channel does not support click-to-call",
    }


async def test_connected_call_then_drop(sim: Sim, receiver: RecordingReceiver) -> None:
    customer = await with_agent(sim, receiver, "call-1")
    created = valid("create-click-to-call-response", await create(customer))
    assert created == {"resultCode": "0", "resultDesc": "connect successfully."}
    queuing = await next_event(customer)
    assert queuing == {
        "resultCode": "0",
        "resultDesc": "Call in queue",
        "eventId": 168100,
        "content": {"accessCode": 4001},
    }
    connected = await next_event(customer)
    assert connected == {
        "resultCode": "0",
        "resultDesc": "Call connected",
        "eventId": 168101,  # the one documented id, a number as in the example
        "content": {
            "accessCode": 4001,
            "domain": "webrtc.aicc-simulator.invalid",
            "gwAddresses": ["192.0.2.10:8443"],
            "clickToCallCaller": "70001",
        },
    }
    calls = (await sim.admin("GET", "/calls")).json["calls"]
    assert [(c["userId"], c["state"], c["events"]) for c in calls] == [
        ("call-1", "connected", ["queuing", "connected"])
    ]
    assert (await create(customer)).json["resultCode"] == "13"  # one call at a time
    assert valid("drop-click-to-call-response", await drop(customer)) == {
        "resultCode": "0",
        "resultDesc": "",
    }
    released = await next_event(customer)
    assert (released["resultDesc"], released["eventId"]) == ("Call disconnected", 168102)
    assert (await drop(customer)).json == {"resultCode": "13", "resultDesc": "disconnect failed"}
    # the chat itself goes on
    assert (await customer.send("CHAT", "still here")).json["resultCode"] == "0"


async def test_no_event_waits_out_the_window(sim: Sim, receiver: RecordingReceiver) -> None:
    customer = sim.customer("call-2")
    await customer.login()
    assert await event(customer, f"{CCM}/getClickToCallEvents") == {
        "resultCode": "0",
        "resultDesc": "ClickToCall polled without any events",
    }


async def test_create_needs_a_chat_with_an_agent(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url, on_connect="queuing")]))
    customer = sim.customer("call-3")
    await customer.login()
    expected = {"resultCode": "13", "resultDesc": "No agents available currently"}
    assert (await create(customer)).json == expected  # no chat at all
    await customer.connect()
    await receiver.wait_message("call-3", content="Queuing...")
    assert (await create(customer)).json == expected  # still queuing


@pytest.mark.parametrize(
    ("scenario", "events"),
    [
        ("call-queue-timeout", ["Call in queue", "Call queued timeout"]),
        ("call-failed", ["Call failed"]),
    ],
)
async def test_call_scenarios_that_end_the_call(
    make_sim: MakeSim, receiver: RecordingReceiver, scenario: str, events: list[str]
) -> None:
    channel = channel_doc(receiver.url, click_to_call={"scenario": scenario})
    sim = await make_sim(config_doc([channel]))
    customer = await with_agent(sim, receiver, "call-4")
    assert (await create(customer)).json["resultCode"] == "0"
    got = [await next_event(customer) for _ in events]
    assert [e["resultDesc"] for e in got] == events
    if scenario == "call-failed":
        assert got[0]["eventId"] == 168104
        assert got[0]["content"] == {
            "accessCode": 4001,
            "causeId": 1,
            "causeDesc": "The call failed.",
        }
    [call] = (await sim.admin("GET", "/calls")).json["calls"]
    assert call["state"] == "ended"
    assert (await drop(customer)).json["resultCode"] == "13"  # nothing left to hang up
    assert (await create(customer)).json["resultCode"] == "0"  # a new call may start


async def test_string_ids_2025_codes_and_configured_ids(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    settings = {
        "numeric_ids": False,
        "devg_codes": False,
        "event_ids": {"queuing": 7, "connected": 8},
        "scenario": None,
        "domain": "gw.example.com",
    }
    channels = [
        channel_doc(receiver.url, click_to_call=settings),
        channel_doc(receiver.url, id="2", working_hours="never", click_to_call=settings),
    ]
    sim = await make_sim(config_doc(channels))
    customer = await with_agent(sim, receiver, "call-5")
    assert (await create(customer)).json["resultCode"] == "0"
    # no scenario: events come only from the admin API
    assert "eventId" not in await event(customer)
    injected = await sim.admin("POST", "/calls/call-5/events", json_body={"event": "connected"})
    assert injected.status == 202, injected.text
    answer = await next_event(customer)
    assert answer == injected.json["answer"]
    assert answer["eventId"] == "8" and answer["content"]["accessCode"] == "4001"
    assert answer["content"]["domain"] == "gw.example.com"
    after_hours = sim.customer("call-6", channel_id="2")
    await after_hours.login()
    assert (await create(after_hours)).json == {
        "resultCode": "13",  # 2025 page: 13 only (devg 2024 would say 12)
        "resultDesc": "The current time is not within the working time of the service agents",
    }


async def test_outside_working_hours_is_12(make_sim: MakeSim, receiver: RecordingReceiver) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url, working_hours="never")]))
    customer = sim.customer("call-7")
    await customer.login()
    assert (await create(customer)).json["resultCode"] == "12"


async def test_admin_inject_with_overrides(sim: Sim) -> None:
    body = {
        "event": "failed",
        "channelId": CHANNEL,
        "resultDesc": "Call failed",
        "causeId": "486",
        "causeDesc": "busy",
        "eventId": 9,
    }
    injected = await sim.admin("POST", "/calls/call-8/events", json_body=body)
    assert injected.status == 202, injected.text
    customer = sim.customer("call-8")
    await customer.login()
    answer = await event(customer)
    assert answer["eventId"] == 9
    assert answer["content"] == {"accessCode": 4001, "causeId": 486, "causeDesc": "busy"}


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        ({"event": "ringing"}, 400, "/event"),
        ({}, 400, ""),
        ({"event": "connected", "colour": "red"}, 400, ""),
        ({"event": "connected", "gwAddresses": "1.2.3.4"}, 400, "/gwAddresses"),
        ({"event": "connected", "channelId": "nope"}, 404, None),
    ],
)
async def test_admin_inject_bad_input(
    sim: Sim, body: dict[str, Any], status: int, pointer: str | None
) -> None:
    reply = await sim.admin("POST", "/calls/u/events", json_body=body)
    assert reply.status == status, reply.text
    if pointer is not None:
        assert pointer in [v["pointer"] for v in reply.json["violations"]]


@pytest.mark.parametrize(
    ("path", "body", "pointer"),
    [
        ("v1/createClickToCall", {"channel": "WEB", "mediaAbility": "2"}, "/mediaAbility"),
        ("v1/createClickToCall", {"channel": "WEB"}, ""),
        ("v1/createClickToCall", {"channel": "WEBX", "mediaAbility": "1"}, "/channel"),
        ("v1/createClickToCall", ["WEB"], ""),
        ("v1/dropClickToCall", {}, ""),
        ("v1/dropClickToCall", {"channel": 1}, "/channel"),
    ],
)
async def test_bad_bodies(sim: Sim, path: str, body: Any, pointer: str) -> None:
    customer = sim.customer("bad-1")
    await customer.login()
    reply = await customer.call(path, body)
    assert reply.status == 400, reply.text
    assert pointer in [v["pointer"] for v in reply.json["violations"]]


@pytest.mark.parametrize(
    "path", [f"{CCM}/v1/checkClickToCallSupport", f"{CCM}/v1/getClickToCallEvents"]
)
async def test_bad_queries_and_auth(sim: Sim, path: str) -> None:
    customer = sim.customer("bad-2")
    await customer.login()
    for params, pointer in (({}, ""), ({"channel": "SMS"}, "/channel")):
        reply = await sim.request("GET", path, headers=customer.headers(), params=params)
        assert reply.status == 400, reply.text
        assert pointer in [v["pointer"] for v in reply.json["violations"]]
    unauthenticated = await sim.request("GET", path, params={"channel": "WEB"})
    assert unauthenticated.status == 401
    wrong_token = {**customer.headers(), "ccmessaging-token": "forged"}
    assert (
        await sim.request("GET", path, headers=wrong_token, params={"channel": "WEB"})
    ).status == 401
    broken = await sim.request(
        "POST", f"{CCM}/v1/createClickToCall", data="{", headers=customer.headers()
    )
    assert broken.status == 400 and "not valid JSON" in broken.text


async def test_reset_forgets_calls(sim: Sim, receiver: RecordingReceiver) -> None:
    customer = await with_agent(sim, receiver, "call-9")
    assert (await create(customer)).json["resultCode"] == "0"
    await sim.admin("POST", "/reset")
    assert (await sim.admin("GET", "/calls")).json["calls"] == []


async def test_the_events_long_poll_window_is_on_the_simulator_clock(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    clock = VirtualClock()
    sim = await make_sim(
        config_doc([channel_doc(receiver.url, idle_timeout=3600)], poll={"timeout_ms": 60_000}),
        clock=clock,
    )
    customer = sim.customer("clock-1")
    await customer.login()
    polling = asyncio.ensure_future(event(customer))
    done, _ = await asyncio.wait((polling,), timeout=0.2)
    assert not done  # a minute-long window stays open in real time
    clock.advance(60_000)
    assert await asyncio.wait_for(polling, WAIT) == {
        "resultCode": "0",
        "resultDesc": "ClickToCall polled without any events",
    }
    # an injected event answers a waiting poll at once, without moving the clock
    polling = asyncio.ensure_future(event(customer))
    done, _ = await asyncio.wait((polling,), timeout=0.2)
    assert not done
    injected = await sim.request(
        "POST", "/__admin/calls/clock-1/events", json_body={"event": "queuing"}
    )
    assert injected.status == 202, injected.text
    answer = await asyncio.wait_for(polling, WAIT)
    assert answer == injected.json["answer"]
    assert answer["resultDesc"] == "Call in queue"
