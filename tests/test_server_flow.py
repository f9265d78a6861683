"""The vendor's call sequence end to end (reference §7.1, §7.2), in push mode (OAuth and
signature) and in poll mode, over real sockets: the simulator on one port, a recording
receiver on another."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

from conftest import (
    APP_KEY,
    CHANNEL,
    PUSH_KEY,
    WAIT,
    MakeSim,
    RecordingReceiver,
    Sim,
    channel_doc,
    config_doc,
)

from simulator.core import signing
from simulator.core.validation import default_store
from simulator.server.deliveries import DELIVERIES

VENDOR = Path(__file__).parent / "fixtures" / "vendor"


def _seed(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VENDOR / name).read_text(encoding="utf-8"))
    return data


SEED_QUEUING = _seed("downlink-message.seed-pushmsg-queuing.json")
SEED_CONNECTED = _seed("push-request.seed-pushmsg-connected.json")["messages"][0]
SEED_READ = _seed("downlink-message.seed-pushmsg-read.json")


async def _barrier(sim: Sim, receiver: RecordingReceiver, user_id: str) -> None:
    """Run another customer up to its agent greeting: anything the first conversation still
    had scheduled for the same scenario time would have been pushed by then."""
    other = sim.customer(user_id)
    await other.connect()
    await receiver.wait_message(user_id, sourceType="AGENT")


async def test_push_oauth_full_sequence(make_sim: MakeSim, receiver: RecordingReceiver) -> None:
    # speed 2: half a second in the queue, so queryQueueInfo right after CONNECT sees it
    sim = await make_sim(config_doc([channel_doc(receiver.url, speed=2)]))
    customer = sim.customer("cust-1")

    token = await customer.token_by_ak_sk("600")
    assert token.status == 200
    body = token.json
    assert set(body) == {
        "AccessToken",
        "ApplyType",
        "CreateTime",
        "Expires",
        "Scope",
        "AppKey",
        "UserID",
    }
    assert body["ApplyType"] == "Bearer"
    assert body["Expires"] == "600"
    assert body["AppKey"] == APP_KEY
    assert body["UserID"] == "Anonymous"
    assert all(isinstance(v, str) for v in body.values())
    assert abs(int(body["CreateTime"]) - time.time()) < 600  # epoch seconds
    assert body["AccessToken"]

    applied = await customer.apply_token()
    assert applied.status == 200
    assert applied.json["resultCode"] == "0"
    assert applied.json["token"]

    connect = await customer.send("CONNECT")
    assert connect.status == 200
    assert connect.json == {"resultCode": "0", "resultDesc": "success"}

    queuing = await customer.queue_info()
    assert queuing.status == 200
    assert queuing.json["resultCode"] == "0"
    assert set(queuing.json) >= {
        "position",
        "totalWaitTime",
        "currentDeviceWaitTime",
        "configMaxcWaitTime",
        "longestWaitTime",
        "estimateWaitTime",
    }

    first = await receiver.wait_messages("cust-1", 3)
    assert [m["content"] for m in first] == [
        "Queuing...",
        "The call is connected to an agent.",
        "Hello, this is Alice. How can I help you?",
    ]
    queue_msg, connected_msg, greeting = first
    # field for field the vendor's sample entries (values differ: ids and times are live)
    assert set(queue_msg) == set(SEED_QUEUING)
    assert set(connected_msg) == set(SEED_CONNECTED)
    assert set(greeting) == set(SEED_QUEUING)
    for message in first:
        assert message["from"] == CHANNEL
        assert message["to"] == "cust-1"
        assert message["channel"] == "WEB"
        assert message["controlType"] == "CHAT"
        assert message["mediaType"] == "TEXT"
        assert isinstance(message["timestamp"], int)
    assert queue_msg["sourceType"] == connected_msg["sourceType"] == "SYSTEM"
    assert greeting["sourceType"] == "AGENT"

    for push in receiver.pushes_to("cust-1"):
        assert push.method == "POST"
        assert push.path == "/aicc"
        assert push.headers["Content-Type"] == "application/json"
        assert push.headers["x-app-key"] == APP_KEY
        assert re.fullmatch(r"Bearer \S+", push.headers["Authorization"])
        assert set(push.json) == {"timestamp", "messages"}
        assert isinstance(push.json["timestamp"], int)
    # the Bearer the simulator presents is a real AccessToken: its own pushMsg sink takes it
    push = receiver.pushes_to("cust-1")[0]
    sink = await sim.request(
        "POST",
        "/apiaccess/ccmessaging/pushMsg",
        data=push.body,
        headers={
            "Content-Type": "application/json",
            "x-app-key": push.headers["x-app-key"],
            "Authorization": push.headers["Authorization"],
        },
    )
    assert sink.status == 200 and sink.json["resultCode"] == "0", sink.text

    connected = await customer.queue_info()
    assert connected.json["resultCode"] == "160021"

    chat = await customer.send("CHAT", "I need help", messageId="msg-001")
    assert chat.json == {"resultCode": "0", "resultDesc": "sendUserMessage successfully."}
    read = await receiver.wait_message("cust-1", controlType="READ")
    assert read["content"] == "msg-001"
    assert read["sourceType"] == "AGENT"
    assert read["mediaType"] is None
    assert set(read) == set(SEED_READ)
    answer = await receiver.wait_message("cust-1", content="You said: I need help")
    messages = receiver.messages("cust-1")
    assert messages.index(read) < messages.index(answer)

    bye = await customer.send("DISCONNECT")
    assert bye.json == {"resultCode": "0", "resultDesc": "disconnect successfully"}
    session = await sim.admin("GET", "/sessions/cust-1")
    assert session.json["sessions"][0]["state"] == "ended"
    assert session.json["sessions"][0]["endedReason"] == "customer-disconnect"
    run = await sim.admin("GET", f"/runs/{session.json['sessions'][0]['runId'] or ''}")
    # the run is over: either forgotten by the session (runId null) or not running
    assert run.status == 404 or run.json["status"] != "running"

    # a CHAT after DISCONNECT has no session any more
    late = await customer.send("CHAT", "anyone?")
    assert late.json == {"resultCode": "13", "resultDesc": "sendUserMessage failed"}
    count = len(receiver.messages("cust-1"))
    await _barrier(sim, receiver, "cust-barrier")
    assert len(receiver.messages("cust-1")) == count


async def test_disconnect_cancels_pending_answers(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    # speed 2: the READ is due 0.15 s after the CHAT, the DISCONNECT comes right away
    sim = await make_sim(config_doc([channel_doc(receiver.url, speed=2)]))
    customer = sim.customer("cust-cancel")
    await customer.connect()
    await receiver.wait_message("cust-cancel", sourceType="AGENT")
    await customer.send("CHAT", "quick one", messageId="m-quick")
    bye = await customer.send("DISCONNECT")
    assert bye.json["resultCode"] == "0"
    await _barrier(sim, receiver, "cust-after")
    await asyncio.sleep(0)  # let a (wrongly) due push reach the lane; not a timing wait
    controls = [m["controlType"] for m in receiver.messages("cust-cancel")]
    assert "READ" not in controls
    assert not any(m["content"] == "You said: quick one" for m in receiver.messages("cust-cancel"))


async def test_push_signature_mode_verifies(make_sim: MakeSim, receiver: RecordingReceiver) -> None:
    sim = await make_sim(
        config_doc([channel_doc(receiver.url, push_mode="signature", push_key=PUSH_KEY, speed=20)])
    )
    customer = sim.customer("cust-sig")
    await customer.connect()
    messages = await receiver.wait_messages("cust-sig", 3)
    assert messages[0]["content"] == "Queuing..."
    for push in receiver.pushes_to("cust-sig"):
        assert push.path == "/aicc/webhooks/v1/messages"
        assert push.headers["Authorization"].startswith(f"auth-v2/{APP_KEY}/")
        signing.verify(
            push.headers["Authorization"],
            method="POST",
            path=push.path,
            headers=push.headers,
            body=push.body,
            push_key=PUSH_KEY,
            access_key=APP_KEY,
        )
        # and a wrong key does not verify
        assert not signing.is_valid(
            push.headers["Authorization"],
            method="POST",
            path=push.path,
            headers=push.headers,
            body=push.body,
            push_key="X" + PUSH_KEY[1:],
        )
    bye = await customer.send("DISCONNECT")
    assert bye.json["resultCode"] == "0"


# --------------------------------------------------------------------------------------------
# poll mode


async def _queued(sim: Sim, user_id: str, **fields: Any) -> None:
    """Wait until a message to ``user_id`` with ``fields`` was handed to the poll queue."""

    def match(item: Any) -> bool:
        return getattr(item, "verdict", None) == "queued-for-poll" and any(
            m.get("to") == user_id and all(m.get(k) == v for k, v in fields.items())
            for m in item.messages
        )

    await sim.app[DELIVERIES].wait_for(match, WAIT)


#: A long-poll window far longer than any answer that comes "at once" (even on a loaded
#: machine), so that "answered at once" is told from "answered at the end of the window"
#: with a generous bound instead of a tight one.
LONG_WINDOW_MS = 20_000
AT_ONCE = LONG_WINDOW_MS / 1000 / 2


async def test_poll_mode_sequence(make_sim: MakeSim, receiver: RecordingReceiver) -> None:
    sim = await make_sim(
        config_doc(
            [channel_doc(receiver.url, delivery="poll", speed=20)],
            poll={"timeout_ms": LONG_WINDOW_MS},
        )
    )
    customer = sim.customer("poller")
    await customer.connect()
    await _queued(sim, "poller", sourceType="AGENT")

    started = time.monotonic()
    first = await customer.poll()
    assert time.monotonic() - started < AT_ONCE  # at once, not at the end of the window
    assert first.status == 200
    assert first.json["resultCode"] == "0"
    assert first.json["resultDesc"] == "query user messages success."
    contents = [m["content"] for m in first.json["downlinkMessages"]]
    assert contents == [
        "Queuing...",
        "The call is connected to an agent.",
        "Hello, this is Alice. How can I help you?",
    ]
    assert set(first.json["downlinkMessages"][0]) == set(SEED_QUEUING)

    # READ notices are left out without isNeedRead=true
    await customer.send("CHAT", "first", messageId="p-1")
    await _queued(sim, "poller", content="You said: first")
    without = await customer.poll(need_read="false")
    kinds = [m["controlType"] for m in without.json["downlinkMessages"]]
    assert kinds == ["CHAT"]
    assert without.json["downlinkMessages"][0]["content"] == "You said: first"

    await customer.send("CHAT", "second", messageId="p-2")
    await _queued(sim, "poller", content="You said: second")
    with_read = await customer.poll(need_read="true")
    found = [(m["controlType"], m["content"]) for m in with_read.json["downlinkMessages"]]
    assert found == [("READ", "p-2"), ("CHAT", "You said: second")]
    assert set(with_read.json["downlinkMessages"][0]) == set(SEED_READ)

    # a long poll in progress is answered as soon as a message arrives
    started = time.monotonic()
    waiting = asyncio.create_task(customer.poll(need_read="true"))
    await customer.send("CHAT", "third", messageId="p-3")
    woken = await asyncio.wait_for(waiting, LONG_WINDOW_MS / 1000 + WAIT)
    assert time.monotonic() - started < AT_ONCE  # woken, not answered at the window's end
    assert woken.status == 200
    # the first downlink for the CHAT wakes it (READ first); the rest waits for the next poll
    assert woken.json["downlinkMessages"], woken.text

    # nothing went to the push receiver
    assert receiver.messages("poller") == []

    # a receiverId that is not the token's user
    wrong = await customer.poll(receiver_id="someone-else")
    assert wrong.status == 400
    assert wrong.json["violations"][0]["pointer"] == "/receiverId"


async def test_poll_answers_stay_within_the_poll_contract(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    sim = await make_sim(
        config_doc([channel_doc(receiver.url, delivery="poll", speed=20)], poll={"timeout_ms": 200})
    )
    customer = sim.customer("long-talker")
    await customer.connect()
    await _queued(sim, "long-talker", sourceType="AGENT")
    await customer.send("CHAT", "x" * 1000)  # within send's 1024, over poll's 500
    await _queued(sim, "long-talker", content="You said: " + "x" * 400)  # quoted, cut
    answer = await customer.poll()
    assert default_store().violations("poll-response", answer.json) == []
    # a message that poll could not answer is refused, not queued
    reply = await sim.admin(
        "POST", "/sessions/long-talker/messages", json_body={"message": {"content": "y" * 501}}
    )
    assert reply.status == 202, reply.text
    refused = await sim.app[DELIVERIES].wait_for(
        lambda item: getattr(item, "verdict", None) == "invalid-outbound", WAIT
    )
    assert any(v.pointer.endswith("/content") for v in refused.item.violations)
    assert (await customer.poll()).json["downlinkMessages"] == []


async def test_an_empty_poll_is_answered_at_the_end_of_its_window(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    # a lower bound only: a loaded machine can make the answer later, never earlier
    sim = await make_sim(
        config_doc([channel_doc(receiver.url, delivery="poll", speed=20)], poll={"timeout_ms": 400})
    )
    customer = sim.customer("poll-empty")
    await customer.connect()
    await _queued(sim, "poll-empty", sourceType="AGENT")
    drained = await customer.poll()
    assert len(drained.json["downlinkMessages"]) == 3, drained.text

    started = time.monotonic()
    empty = await customer.poll()
    elapsed = time.monotonic() - started
    assert empty.status == 200
    assert empty.json["resultCode"] == "0"
    assert empty.json["downlinkMessages"] == []
    assert elapsed >= 0.35  # the 0.4 s window, with a little slack for clock granularity


async def test_poll_request_checks_query(make_sim: MakeSim, receiver: RecordingReceiver) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url, delivery="poll")]))
    customer = sim.customer("poll-bad")
    await customer.connect()
    reply = await sim.request(
        "GET",
        "/apiaccess/ccmessaging/poll",
        headers=customer.headers(),
        params={"channel": "SMS"},
    )
    assert reply.status == 400
    pointers = {v["pointer"] for v in reply.json["violations"]}
    # every violation, not just the first: receiverId missing and channel not WEB
    assert len(reply.json["violations"]) >= 2, reply.text
    assert "/channel" in pointers
    assert any(
        v["pointer"] == "" and "receiverId" in v["message"] for v in reply.json["violations"]
    ), reply.text
