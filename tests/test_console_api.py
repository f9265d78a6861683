"""The web console's server side over real sockets: the page and its files, the token check
it asks first, the live stream (``since`` cursor: nothing missed, nothing doubled; a restart
is a reset), and the admin endpoints the console added (agent events, async switch, stopping
a run, a scenario's variables, media)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from conftest import CHANNEL, WAIT, MakeSim, RecordingReceiver, Sim, channel_doc, config_doc
from yarl import URL

from simulator.core.clock import VirtualClock
from simulator.scenario import RunContext, ScenarioRun, load_builtin
from simulator.server.console.stream import FEEDS
from simulator.server.dispatch import RUNS

TOKEN = "console-admin-token"


@dataclass
class Event:
    """One server-sent event."""

    name: str
    id: str | None
    data: Any


class EventReader:
    """Reads server-sent events from an open ``/__admin/stream`` response."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.events: list[Event] = []

    async def next(self) -> Event:
        name: str = "message"
        event_id: str | None = None
        data: list[str] = []
        while True:
            raw = await self.response.content.readline()
            if not raw:
                raise AssertionError("the stream ended")
            line = raw.decode().rstrip("\n")
            if not line:
                if data:
                    event = Event(name, event_id, json.loads("\n".join(data)))
                    self.events.append(event)
                    return event
                continue
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "id":
                event_id = value
            elif field == "data":
                data.append(value)

    async def until(self, predicate: Any, what: str) -> Event:
        """Read events until one satisfies ``predicate`` (bounded by WAIT)."""
        try:
            async with asyncio.timeout(WAIT):
                while True:
                    event = await self.next()
                    if predicate(event):
                        return event
        except TimeoutError:
            seen = [(e.name, e.id) for e in self.events]
            raise AssertionError(f"no {what} on the stream; saw {seen}") from None


@asynccontextmanager
async def stream(sim: Sim, since: str | None = None, **headers: str) -> AsyncIterator[EventReader]:
    params = {"since": since} if since else {}
    async with sim.http.get(
        sim.base_url + "/__admin/stream", params=params, headers=headers
    ) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        yield EventReader(response)


async def test_page_files_and_root_redirect(sim: Sim) -> None:
    for path in ("/", "/__admin/ui"):
        async with sim.http.get(sim.base_url + path, allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"] == "/__admin/ui/"
    page = await sim.request("GET", "/__admin/ui/")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert 'src="console.js"' in page.text
    for name, kind in (("console.js", "text/javascript"), ("console.css", "text/css"),
                       ("api.js", "text/javascript"), ("model.js", "text/javascript"),
                       ("icon.svg", "image/svg+xml")):  # fmt: skip
        reply = await sim.request("GET", f"/__admin/ui/{name}")
        assert reply.status == 200, name
        assert reply.headers["Content-Type"].startswith(kind), name
    # nothing in the page or its files reaches for another host
    for name in ("", "console.js", "console.css", "api.js", "model.js"):
        text = (await sim.request("GET", f"/__admin/ui/{name}")).text
        assert "http://" not in text.replace("http://www.w3.org/", "")
        assert "https://" not in text and "//fonts." not in text
    for bad in ("/__admin/ui/nope.js", "/__admin/ui/..%2Fapp.py", "/__admin/ui/.hidden.js"):
        assert (await sim.request("GET", bad)).status == 404, bad


async def test_token_protects_the_data_not_the_page(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url)], admin={"token": TOKEN}))
    assert (await sim.request("GET", "/__admin/ui/")).status == 200
    assert (await sim.request("GET", "/__admin/ui/console.js")).status == 200
    auth = await sim.request("GET", "/__admin/ui/auth")
    assert auth.status == 200 and auth.json == {"required": True, "accepted": False}
    wrong = await sim.request("GET", "/__admin/ui/auth", headers={"X-Admin-Token": "nope"})
    assert wrong.json == {"required": True, "accepted": False}
    right = await sim.request("GET", "/__admin/ui/auth", headers={"X-Admin-Token": TOKEN})
    assert right.json == {"required": True, "accepted": True}
    for method, path in (
        ("GET", "/stream"),
        ("GET", "/media"),
        ("GET", "/scenarios/queuing"),
        ("POST", "/sessions/u/events/queuing"),
        ("PUT", f"/channels/{CHANNEL}/async-switch"),
        ("POST", "/runs/run-1/stop"),
    ):
        assert (await sim.admin(method, path)).status == 401, path
    async with stream(sim, **{"X-Admin-Token": TOKEN}) as events:
        assert (await events.next()).name == "hello"
    # the page's exemption from the token is no way round it
    for sneaky in (
        "/__admin/ui/../requests",
        "/__admin/ui/%2e%2e/config",
        "/__admin/ui/..%2fsessions",
    ):
        url = URL(sim.base_url + sneaky, encoded=True)
        async with sim.http.get(url) as response:
            assert response.status in (401, 404), sneaky
            assert "requests" not in await response.json(), sneaky


async def test_auth_without_a_token_configured(sim: Sim) -> None:
    reply = await sim.request("GET", "/__admin/ui/auth")
    assert reply.json == {"required": False, "accepted": True}


async def test_stream_resumes_from_its_cursor(sim: Sim, receiver: RecordingReceiver) -> None:
    alice = sim.customer("alice")
    async with stream(sim) as events:
        hello = await events.next()
        assert hello.name == "hello"
        instance = hello.data["instance"]
        await alice.connect()
        await receiver.wait_messages("alice", 2)  # Queuing..., connected
        state = await events.until(
            lambda e: e.name == "state" and any(s["userId"] == "alice" for s in e.data["sessions"]),
            "alice's session",
        )
        assert state.id is not None and state.id.startswith(instance + ".")
        delivery = await events.until(lambda e: e.name == "delivery", "a delivery")
        assert delivery.data["conversation"] == f"{CHANNEL}/alice"
        assert delivery.data["verdict"] == "accepted"
        cursor = delivery.id
    assert cursor is not None
    seen_requests = {e.data["seq"] for e in events.events if e.name == "request"}
    seen_deliveries = {e.data["seq"] for e in events.events if e.name == "delivery"}
    _, request_seq, delivery_seq = cursor.split(".")

    # while nobody watches: more traffic
    await alice.send("CHAT", "while the console was closed", messageId="m-1")
    await receiver.wait_message("alice", content="You said: while the console was closed")

    expected_requests = [
        r["seq"]
        for r in (await sim.admin("GET", "/requests", params={"since": request_seq})).json[
            "requests"
        ]
    ]
    expected_deliveries = [
        d["seq"]
        for d in (await sim.admin("GET", "/deliveries", params={"since": delivery_seq})).json[
            "deliveries"
        ]
    ]
    assert expected_requests and expected_deliveries
    async with stream(sim, since=cursor) as resumed:
        assert (await resumed.next()).name == "hello"
        last_request, last_delivery = expected_requests[-1], expected_deliveries[-1]
        await resumed.until(
            lambda e: e.name == "delivery" and e.data["seq"] == last_delivery, "the last delivery"
        )
        await resumed.until(lambda e: e.name == "state", "the state after the backlog")
    names = [e.name for e in resumed.events]
    assert "reset" not in names and "gap" not in names
    got_requests = [e.data["seq"] for e in resumed.events if e.name == "request"]
    got_deliveries = [e.data["seq"] for e in resumed.events if e.name == "delivery"]
    # nothing missed, nothing doubled, in order
    assert got_requests[: len(expected_requests)] == expected_requests
    assert got_requests[-1] >= last_request
    assert got_deliveries[: len(expected_deliveries)] == expected_deliveries
    assert not set(got_requests) & seen_requests
    assert not set(got_deliveries) & seen_deliveries


async def test_stream_cursor_of_another_instance_is_a_reset(sim: Sim) -> None:
    await sim.customer("bob").login()
    async with stream(sim, since="0123456789ab.5.7") as events:
        assert (await events.next()).name == "hello"
        assert (await events.next()).name == "reset"
        first = await events.until(lambda e: e.name == "request", "the backlog")
        assert first.data["seq"] == 1  # everything again, from the start
    instance = sim.app[FEEDS].instance
    async with stream(sim, since=f"{instance}.999.0") as events:  # ahead of this server
        await events.next()
        assert (await events.next()).name == "reset"
    reply = await sim.admin("GET", "/stream", params={"since": "garbage"})
    assert reply.status == 400
    assert reply.json["violations"][0]["pointer"] == "/since"


async def test_stream_reports_a_gap(make_sim: MakeSim, receiver: RecordingReceiver) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url)], journal={"capacity": 3}))
    instance = sim.app[FEEDS].instance
    for _ in range(3):
        await sim.customer("carol").login()  # 2 requests each
    async with stream(sim, since=f"{instance}.1.0") as events:
        await events.next()
        gap = await events.next()
        assert gap.name == "gap"
        assert gap.data == {"requests": 2, "deliveries": 0}  # seqs 2 and 3 fell out


def _library_messages(name: str, user: str, **context: Any) -> list[dict[str, Any]]:
    run = ScenarioRun(load_builtin(name), RunContext(user_id=user, channel_id=CHANNEL, **context))
    advance = run.start(0.0)
    return [m for push in advance.pushes for m in push.messages]


def _without_time(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "timestamp"}


async def test_agent_events_push_what_the_scenarios_would(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    # no on-connect scenario: the only pushes are the console's
    sim = await make_sim(config_doc([channel_doc(receiver.url, on_connect=None)]))
    dave = sim.customer("dave")
    await dave.connect()
    await dave.send("CHAT", "first", messageId="id-1")
    await dave.send("CHAT", "second", messageId="id-2")

    async def event(name: str, user: str = "dave") -> dict[str, Any]:
        reply = await sim.admin("POST", f"/sessions/{user}/events/{name}")
        assert reply.status == 202, reply.text
        answer: dict[str, Any] = reply.json
        return answer

    queuing = await event("queuing")
    assert queuing["scenario"] == "queuing"
    pushed = await receiver.wait_message("dave", content="Queuing...")
    assert _without_time(pushed) == _without_time(_library_messages("queuing", "dave")[0])
    assert (await sim.admin("GET", "/sessions/dave")).json["sessions"][0]["state"] == "queuing"

    await event("connected")
    pushed = await receiver.wait_message("dave", content="The call is connected to an agent.")
    # the vendor sample's "connected" entry, field for field (callId: null, messageCode: null)
    assert _without_time(pushed) == {
        "from": CHANNEL, "channel": "WEB", "to": "dave", "controlType": "CHAT",
        "mediaType": "TEXT", "content": "The call is connected to an agent.",
        "simQuestions": None, "senderNickname": "SYSTEM", "sourceType": "SYSTEM",
        "callId": None, "messageCode": None,
    }  # fmt: skip
    assert (await sim.admin("GET", "/sessions/dave")).json["sessions"][0]["state"] == "agent"

    read = await event("read")
    assert read["pushes"][0][0]["content"] == "id-1,id-2"
    pushed = await receiver.wait_message("dave", controlType="READ")
    assert _without_time(pushed) == _without_time(
        _library_messages("read-receipt", "dave", message_ids=("id-1", "id-2"))[0]
    )
    session = (await sim.admin("GET", "/sessions/dave")).json["sessions"][0]
    assert session["unreadMessageIds"] == []

    transfer = await event("transfer")
    assert [m[0]["controlType"] for m in transfer["pushes"]] == ["Trans2Agent", "CHAT", "CHAT"]
    await receiver.wait_message("dave", controlType="Trans2Agent")

    await event("agent-disconnect")
    pushed = await receiver.wait_message("dave", controlType="DISCONNECT")
    assert _without_time(pushed) == _without_time(_library_messages("agent-disconnect", "dave")[0])
    session = (await sim.admin("GET", "/sessions/dave")).json["sessions"][0]
    assert session["state"] == "ended" and session["endedReason"] == "agent-disconnect"
    gone = await sim.admin("POST", "/sessions/dave/events/queuing")
    assert gone.status == 404


async def test_timeout_event_follows_the_async_switch(
    sim: Sim, receiver: RecordingReceiver
) -> None:
    erin, frank = sim.customer("erin"), sim.customer("frank")
    await erin.connect()
    await frank.connect()
    run_id = (await sim.admin("GET", "/sessions/erin")).json["sessions"][0]["runId"]
    assert run_id is not None

    off = await sim.admin("POST", "/sessions/erin/events/timeout")
    assert off.status == 202 and off.json["scenario"] == "timeout-async-off"
    pushed = await receiver.wait_message("erin", controlType="DISCONNECT")
    assert _without_time(pushed) == _without_time(_library_messages("timeout-async-off", "erin")[0])
    session = (await sim.admin("GET", "/sessions/erin")).json["sessions"][0]
    assert session["state"] == "ended" and session["endedReason"] == "timeout"
    run = (await sim.admin("GET", f"/runs/{run_id}")).json
    assert run["status"] == "cancelled"  # the on-connect run stops with the session

    switched = await sim.admin(
        "PUT", f"/channels/{CHANNEL}/async-switch", json_body={"asyncSwitch": True}
    )
    assert switched.status == 200
    assert switched.json == {
        "channelId": CHANNEL,
        "asyncSwitch": True,
        "timeoutScenario": "timeout-async-on",
    }
    config = (await sim.admin("GET", "/config")).json
    assert config["channels"][0]["async_switch"] is True

    on = await sim.admin("POST", "/sessions/frank/events/timeout")
    assert on.json["scenario"] == "timeout-async-on"
    pushed = await receiver.wait_message("frank", controlType="DISCONNECT")
    assert pushed["isOfflineStatus"] is True and pushed["mediaType"] == "TEXT"


async def test_async_switch_reaches_an_armed_idle_timer(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url, on_connect=None, idle_timeout=0.3)]))
    gina = sim.customer("gina")
    await gina.connect()  # the idle timer is armed now, with the switch off
    reply = await sim.admin(
        "PUT", f"/channels/{CHANNEL}/async-switch", json_body={"asyncSwitch": True}
    )
    assert reply.status == 200
    pushed = await receiver.wait_message("gina", controlType="DISCONNECT")
    assert pushed.get("isOfflineStatus") is True  # timeout-async-on, chosen when it fired


async def test_agent_events_and_the_switch_on_the_simulator_clock(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    clock = VirtualClock(start_ms=1_800_000_000_000)
    sim = await make_sim(
        config_doc([channel_doc(receiver.url, on_connect=None, idle_timeout=60)]), clock=clock
    )
    olga = sim.customer("olga")
    await olga.connect()  # the idle timer is armed for a virtual minute, the switch off
    clock.advance(5_000)
    reply = await sim.admin("POST", "/sessions/olga/events/transfer")
    assert reply.status == 202, reply.text
    # built at the simulator's time, not the wall clock's
    assert [push[0]["timestamp"] for push in reply.json["pushes"]] == [clock.now()] * 3
    pushed = await receiver.wait_message("olga", content="The call is connected to an agent.")
    assert pushed["timestamp"] == clock.now()
    assert (await sim.admin("GET", "/sessions/olga")).json["sessions"][0]["state"] == "agent"
    switched = await sim.admin(
        "PUT", f"/channels/{CHANNEL}/async-switch", json_body={"asyncSwitch": True}
    )
    assert switched.status == 200
    clock.advance(60_000)  # the armed timer fires, and sees the switch as it is now
    pushed = await receiver.wait_message("olga", controlType="DISCONNECT")
    # at the timer's own time: a minute after the CONNECT
    assert pushed["isOfflineStatus"] is True and pushed["timestamp"] == 1_800_000_060_000
    session = (await sim.admin("GET", "/sessions/olga")).json["sessions"][0]
    assert session["state"] == "ended" and session["endedReason"] == "timeout"


async def test_async_switch_bad_input(sim: Sim) -> None:
    path = f"/channels/{CHANNEL}/async-switch"
    for body in ({"asyncSwitch": "yes"}, {}, {"asyncSwitch": True, "more": 1}):
        reply = await sim.admin("PUT", path, json_body=body)
        assert reply.status == 400, body
        assert reply.json["violations"][0]["pointer"] == "/asyncSwitch"
    assert (await sim.admin("PUT", path, data="[1]")).status == 400
    assert (await sim.admin("PUT", path, data="{broken")).status == 400
    missing = await sim.admin("PUT", "/channels/nope/async-switch", json_body={"asyncSwitch": True})
    assert missing.status == 404


async def test_event_bad_input(sim: Sim) -> None:
    await sim.customer("hank").connect()
    unknown = await sim.admin("POST", "/sessions/hank/events/dance")
    assert unknown.status == 404 and "queuing" in unknown.json["detail"]
    extra = await sim.admin("POST", "/sessions/hank/events/queuing", json_body={"x": 1})
    assert extra.status == 400 and extra.json["violations"][0]["pointer"] == "/x"
    channel = await sim.admin("POST", "/sessions/hank/events/queuing", json_body={"channelId": 5})
    assert channel.status == 400 and channel.json["violations"][0]["pointer"] == "/channelId"
    other = await sim.admin(
        "POST", "/sessions/hank/events/queuing", json_body={"channelId": "elsewhere"}
    )
    assert other.status == 404
    assert (await sim.admin("POST", "/sessions/nobody/events/queuing")).status == 404


async def test_stop_a_run(sim: Sim, receiver: RecordingReceiver) -> None:
    started = await sim.admin(
        "POST", "/scenarios/connected/runs", json_body={"userId": "ivy", "vars": {"queueWait": 30}}
    )
    assert started.status == 201, started.text
    run_id = started.json["runId"]
    await receiver.wait_message("ivy", content="Queuing...")
    stopped = await sim.admin("POST", f"/runs/{run_id}/stop")
    assert stopped.status == 200
    assert stopped.json["status"] == "cancelled" and stopped.json["finishedAt"] is not None
    again = await sim.admin("POST", f"/runs/{run_id}/stop")
    assert again.status == 200 and again.json["status"] == "cancelled"
    assert (await sim.admin("GET", "/sessions/ivy")).json["sessions"][0]["runId"] is None
    assert (await sim.admin("POST", "/runs/run-0/stop")).status == 404


async def test_run_speed(sim: Sim) -> None:
    started = await sim.admin(
        "POST", "/scenarios/connected/runs", json_body={"userId": "jack", "speed": 40}
    )
    assert started.status == 201, started.text
    record = sim.app[RUNS].conductor.get(started.json["runId"])
    assert record is not None and record.run.context.speed == 40
    for bad in (0, -1, "fast", 10_000):
        reply = await sim.admin(
            "POST", "/scenarios/connected/runs", json_body={"userId": "jack", "speed": bad}
        )
        assert reply.status == 400, bad
        assert reply.json["violations"][0]["pointer"] == "/speed"


async def test_scenario_detail_and_media(sim: Sim) -> None:
    detail = await sim.admin("GET", "/scenarios/connected")
    assert detail.status == 200
    assert detail.json["vars"] == {"agentName": "Alice", "queueWait": 1}
    assert "name: connected" in detail.json["source"]
    media = (await sim.admin("GET", "/media")).json["media"]
    assert {"fileId": "5f0c2a1e-7b3d-4c55-9a10-000000000001", "fileType": "png",
            "scenario": "agent-media"} in media  # fmt: skip
    missing = await sim.admin("GET", "/scenarios/nope")
    assert missing.status == 404 and "connected" in missing.json["detail"]


@pytest.mark.parametrize("capacity", [5])
async def test_stream_after_reset_carries_on(
    make_sim: MakeSim, receiver: RecordingReceiver, capacity: int
) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url)], journal={"capacity": capacity}))
    await sim.customer("kim").connect()
    async with stream(sim) as events:
        await events.until(
            lambda e: e.name == "state" and len(e.data["sessions"]) == 1, "kim's session"
        )
        assert (await sim.admin("POST", "/reset")).status == 200
        await events.until(lambda e: e.name == "state" and not e.data["sessions"], "no sessions")
        await sim.customer("lou").login()
        later = await events.until(lambda e: e.name == "request", "a request after the reset")
        assert later.data["seq"] == 4 and later.data["path"].endswith("tokenByAkSk")


async def test_agent_events_on_a_poll_channel_go_to_the_poll_queue(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url, delivery="poll", on_connect=None)]))
    mia = sim.customer("mia")
    await mia.connect()
    reply = await sim.admin("POST", "/sessions/mia/events/queuing")
    assert reply.status == 202 and reply.json["delivery"] == "poll"
    polled = await mia.poll()
    assert [m["content"] for m in polled.json["downlinkMessages"]] == ["Queuing..."]
    notes = (await sim.admin("GET", "/deliveries", params={"userId": "mia"})).json["deliveries"]
    assert [n["verdict"] for n in notes] == ["queued-for-poll"]
    assert not receiver.messages("mia")  # nothing was pushed
