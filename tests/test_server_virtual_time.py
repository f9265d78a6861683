"""Server timing on a virtual clock: idle timeouts, token expiry, delivery backoff and
long-poll windows of minutes, tested without waiting for them (the clock is moved by
hand). The real-time end-to-end versions stay in test_server_send.py and friends."""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import (
    CHANNEL,
    WAIT,
    MakeSim,
    RecordingReceiver,
    Sim,
    channel_doc,
    config_doc,
)

from simulator.core.clock import VirtualClock
from simulator.delivery.records import AttemptRecord
from simulator.server.deliveries import DELIVERIES
from simulator.server.dispatch import DELIVERER


def _quiet(sim: Sim) -> Any:
    """Virtual time moves on only while no push is in flight (its HTTP is real)."""
    return lambda: sim.app[DELIVERER].pending == 0


async def test_an_idle_timeout_of_ten_minutes_ends_the_session_without_waiting(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    clock = VirtualClock()
    sim = await make_sim(
        config_doc([channel_doc(receiver.url, idle_timeout=600, speed=1)]), clock=clock
    )
    customer = sim.customer("sleepy")
    await customer.connect()
    connected_at = clock.now()
    disconnect = await clock.run_until(
        receiver.wait_message("sleepy", controlType="DISCONNECT"), quiet=_quiet(sim)
    )
    assert disconnect["sourceType"] == "SYSTEM"
    assert clock.now() - connected_at >= 600_000  # not one virtual ms early
    assert clock.now() - connected_at < 601_000
    session = (await sim.admin("GET", "/sessions/sleepy")).json["sessions"][0]
    assert session["endedReason"] == "timeout"


async def test_an_uplink_pushes_the_idle_timeout_back(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    clock = VirtualClock()
    sim = await make_sim(
        config_doc([channel_doc(receiver.url, idle_timeout=600, on_connect=None)]), clock=clock
    )
    customer = sim.customer("nudger")
    await customer.connect()
    clock.advance(500_000)
    reply = await customer.send("CHAT", "still here")
    assert reply.json["resultCode"] == "0", reply.text
    clock.advance(500_000)  # 1,000 s after CONNECT, 500 s after the CHAT: still live
    await asyncio.sleep(0)
    assert sim.sessions.get(CHANNEL, "nudger").active  # type: ignore[union-attr]
    clock.advance(100_000)  # 600 s after the CHAT
    session = sim.sessions.get(CHANNEL, "nudger")
    assert session is not None and not session.active
    assert session.ended_reason == "timeout"


async def test_an_access_token_expires_on_the_virtual_clock(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    clock = VirtualClock()
    sim = await make_sim(config_doc([channel_doc(receiver.url, idle_timeout=3600)]), clock=clock)
    customer = sim.customer("expiring")
    await customer.login(expire="120")
    clock.advance(119_000)
    assert (await customer.apply_token()).status == 200
    clock.advance(1_000)
    reply = await customer.apply_token()
    assert reply.status == 403, reply.text


async def test_delivery_backoff_waits_on_the_virtual_clock(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    clock = VirtualClock()
    sim = await make_sim(
        config_doc(
            [channel_doc(receiver.url, on_connect=None, idle_timeout=3600)],
            delivery={"attempts": 2, "backoff_initial": 30.0, "backoff_max": 30.0},
        ),
        clock=clock,
    )
    receiver.script("/aicc", "500")
    customer = sim.customer("patient")
    await customer.connect()
    injected = await sim.admin(
        "POST", "/sessions/patient/messages", json_body={"message": {"content": "hello"}}
    )
    assert injected.status == 202, injected.text
    journal = sim.app[DELIVERIES]

    def attempt(n: int) -> Any:
        return lambda item: getattr(item, "attempt", 0) == n

    first = await journal.wait_for(attempt(1), WAIT)
    assert first.item.verdict == "http-error"
    clock.advance(29_000)
    # the second attempt is due 30 s after the first: nothing yet (give the loop turns)
    for _ in range(20):
        await asyncio.sleep(0)
    assert journal.list(attempt(2)) == []
    clock.advance(1_000)
    second = await journal.wait_for(attempt(2), WAIT)
    assert isinstance(first.item, AttemptRecord) and isinstance(second.item, AttemptRecord)
    assert second.item.started_at - first.item.started_at >= 30_000


async def test_a_long_poll_window_closes_on_the_virtual_clock(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    clock = VirtualClock()
    sim = await make_sim(
        config_doc(
            [channel_doc(receiver.url, delivery="poll", on_connect=None, idle_timeout=3600)],
            poll={"timeout_ms": 60_000},
        ),
        clock=clock,
    )
    customer = sim.customer("poller")
    await customer.connect()
    polling = asyncio.ensure_future(customer.poll())
    done, _ = await asyncio.wait((polling,), timeout=0.2)
    assert not done  # a minute-long window stays open in real time
    clock.advance(60_000)
    reply = await asyncio.wait_for(polling, WAIT)
    assert reply.status == 200
    assert reply.json["downlinkMessages"] == []
