"""The built-in scenario library: the seed's messages exactly, and every push valid.

The literals below are the vendor's push sample (shared/seeds, reference §4.1) with its
``//`` comments and trailing commas removed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from simulator.core.push import PlannedPush
from simulator.core.validation import default_store
from simulator.scenario import (
    RunContext,
    ScenarioRun,
    TimedPush,
    Uplink,
    builtin_names,
    load_builtin,
    simulate,
)

T1 = 1625898453913
T2 = 1625898871961

SEED_CONNECTED = {
    "from": "202105284494222653",
    "channel": "WEB",
    "to": "44444444",
    "controlType": "CHAT",
    "mediaType": "TEXT",
    "content": "The call is connected to an agent.",
    "simQuestions": None,
    "senderNickname": "SYSTEM",
    "timestamp": 1625898453913,
    "sourceType": "SYSTEM",
    "callId": None,
    "messageCode": None,
}
SEED_QUEUING = {
    "from": "202105284494222653",
    "channel": "WEB",
    "to": "44444444",
    "controlType": "CHAT",
    "mediaType": "TEXT",
    "content": "Queuing...",
    "simQuestions": None,
    "senderNickname": "SYSTEM",
    "timestamp": 1625898453913,
    "sourceType": "SYSTEM",
    "messageCode": None,
}
SEED_AGENT_DISCONNECT = {
    "from": "202105284494222653",
    "channel": "WEB",
    "to": "44444444",
    "controlType": "DISCONNECT",
    "mediaType": None,
    "content": None,
    "simQuestions": None,
    "senderNickname": None,
    "timestamp": 1625898871961,
    "sourceType": "AGENT",
    "messageCode": None,
}
SEED_TIMEOUT_OFF = {
    "from": "202105284494222653",
    "channel": "WEB",
    "to": "44444444",
    "controlType": "DISCONNECT",
    "mediaType": None,
    "content": None,
    "simQuestions": None,
    "senderNickname": None,
    "timestamp": 1625898871961,
    "sourceType": "SYSTEM",
    "messageCode": None,
}
SEED_TIMEOUT_ON = {
    "from": "202105284494222653",
    "channel": "WEB",
    "to": "44444444",
    "controlType": "DISCONNECT",
    "isOfflineStatus": True,
    "mediaType": "TEXT",
    "content": "{TIPS}",
    "simQuestions": None,
    "senderNickname": None,
    "timestamp": 1625898871961,
    "sourceType": "SYSTEM",
    "messageCode": None,
}
SEED_READ = {
    "from": "202105284494222653",
    "channel": "WEB",
    "to": "44444444",
    "controlType": "READ",
    "mediaType": None,
    "content": "messageId1,messageId2",
    "simQuestions": None,
    "senderNickname": None,
    "timestamp": 1625898871961,
    "sourceType": "AGENT",
    "messageCode": None,
}


def context(wall: int = T1, **options: Any) -> RunContext:
    return RunContext("44444444", "202105284494222653", wall_ms=lambda: wall, seed=1, **options)


def play(
    name: str, uplinks: list[tuple[float, Uplink]] | None = None, **options: Any
) -> tuple[ScenarioRun, list[TimedPush]]:
    run = ScenarioRun(load_builtin(name), context(**options))
    return run, simulate(run, uplinks or [])


def messages(timeline: list[TimedPush]) -> list[dict[str, Any]]:
    return [m for t in timeline for m in t.push.messages]


def chat(text: str, message_id: str | None = None) -> Uplink:
    return Uplink("CHAT", "TEXT", text, message_id)


@pytest.mark.parametrize(
    ("name", "wall", "seed_message"),
    [
        ("queuing", T1, SEED_QUEUING),
        ("agent-disconnect", T2, SEED_AGENT_DISCONNECT),
        ("timeout-async-off", T2, SEED_TIMEOUT_OFF),
        ("timeout-async-on", T2, SEED_TIMEOUT_ON),
        ("read-receipt", T2, SEED_READ),
    ],
)
def test_single_event_scenarios_send_the_seed_message(
    name: str, wall: int, seed_message: dict[str, Any]
) -> None:
    run, timeline = play(name, wall=wall)
    assert run.outcome == "completed"
    assert [t.at for t in timeline] == [0.0]
    (message,) = messages(timeline)
    assert message == seed_message
    assert list(message) == list(seed_message)  # even the field order of the sample


def test_timeout_async_on_uses_the_configured_tips() -> None:
    _, timeline = play("timeout-async-on", tips="We are offline; leave a message.")
    assert messages(timeline)[0]["content"] == "We are offline; leave a message."


def test_read_receipt_uses_the_customers_message_ids() -> None:
    _, timeline = play("read-receipt", message_ids=("a1", "b2"))
    assert messages(timeline)[0]["content"] == "a1,b2"


def test_connected_without_a_customer() -> None:
    run, timeline = play("connected")
    got = messages(timeline)
    assert got[0] == SEED_QUEUING
    assert got[1] == SEED_CONNECTED
    assert got[2]["sourceType"] == "AGENT" and got[2]["senderNickname"] == "Alice"
    assert len(got) == 3
    assert [t.at for t in timeline] == [0.0, 1.0, 1.5]
    assert run.outcome == "completed"  # idle timeout: ends quietly, the server's idle
    # trigger owns the timeout DISCONNECT


def test_connected_waits_out_the_longest_idle_timeout_a_channel_may_have() -> None:
    # idle_timeout may be up to a week (config schema); connected waits {{ idleTimeout }}:
    # a duration above the scenario cap failed the run at its expect
    run, timeline = play("connected", idle_timeout=604800)
    assert len(messages(timeline)) == 3
    assert run.outcome == "completed", run.error


def test_connected_answers_each_chat_and_ends_on_disconnect() -> None:
    run, timeline = play(
        "connected",
        [
            (2.0, chat("I need help", "msg-1")),
            (2.1, chat("with my order", "msg-2")),
            (5.0, chat("no id")),
            (7.0, Uplink("DISCONNECT")),
        ],
        idle_timeout=120.0,
    )
    got = [(m["controlType"], m["content"]) for m in messages(timeline)[3:]]
    assert got == [
        # msg-2 arrived while the agent was "reading": one receipt covers both
        ("READ", "msg-1,msg-2"),
        ("CHAT", "You said: I need help"),
        ("CHAT", "You said: with my order"),  # already read: no second receipt
        ("CHAT", "You said: no id"),  # no messageId: no read receipt
    ]
    assert run.outcome == "cancelled"


def test_robot_transfer() -> None:
    run, timeline = play(
        "robot-transfer", [(0.5, chat("opening hours?")), (1.5, Uplink("TRANS2AGENT"))]
    )
    got = messages(timeline)
    assert [(m["controlType"], m["sourceType"]) for m in got] == [
        ("CHAT", "ROBOT"),
        ("CHAT", "ROBOT"),
        ("Trans2Agent", "SYSTEM"),
        ("CHAT", "SYSTEM"),
        ("CHAT", "SYSTEM"),
        ("CHAT", "AGENT"),
    ]
    assert "opening hours?" in got[1]["content"]
    assert got[3] == SEED_QUEUING
    assert got[4] == SEED_CONNECTED
    assert got[2]["mediaType"] is None and got[2]["content"] is None
    assert run.outcome == "completed"


def test_robot_transfer_without_a_transfer_ends_quietly() -> None:
    run, timeline = play("robot-transfer")
    assert [m["sourceType"] for m in messages(timeline)] == ["ROBOT"]
    assert run.outcome == "completed"


def test_agent_media_declares_every_file_it_sends() -> None:
    scenario = load_builtin("agent-media")
    _, timeline = play("agent-media")
    got = messages(timeline)
    assert [m["mediaType"] for m in got] == ["IMAGE", "VIDEO", "AUDIO", "LOCATE", "DOCUMENT"]
    file_types = {"IMAGE": "png", "VIDEO": "mp4", "AUDIO": "mp3", "DOCUMENT": "pdf"}
    for message in got:
        if message["mediaType"] == "LOCATE":
            assert re.fullmatch(r"-?[\d.]+/-?[\d.]+/.+", message["content"])
            continue
        media = scenario.media[message["content"]]
        assert media.id == message["content"]
        assert media.file_type == file_types[message["mediaType"]]
        assert 0 < len(media.data) <= 2 * 1024 * 1024
    assert scenario.media["5f0c2a1e-7b3d-4c55-9a10-000000000001"].data.startswith(b"\x89PNG")
    assert scenario.media["5f0c2a1e-7b3d-4c55-9a10-000000000004"].data.startswith(b"%PDF")


def test_after_hours_pushes_nothing_and_sets_the_connect_answer() -> None:
    run, timeline = play("after-hours")
    assert timeline == [] and run.outcome == "completed"
    assert load_builtin("after-hours").connect_result == {
        "resultCode": "12",
        "resultDesc": "The current time is not within the working time of the service agents",
    }
    assert load_builtin("connected").connect_result is None


def test_full_conversation_without_a_customer() -> None:
    run, timeline = play("full-conversation", wall=T2)
    got = messages(timeline)
    assert got[0] == {**SEED_QUEUING, "timestamp": T2}
    assert got[1] == {**SEED_CONNECTED, "timestamp": T2}
    assert "still there" in got[3]["content"]
    assert got[-1] == SEED_AGENT_DISCONNECT
    assert run.outcome == "completed"


def test_full_conversation_with_a_customer() -> None:
    _, timeline = play("full-conversation", [(1.5, chat("where is my parcel?", "p-1"))])
    got = [(m["controlType"], m["content"]) for m in messages(timeline)[3:]]
    assert got == [
        ("READ", "p-1"),
        ("CHAT", "Thank you, I have noted: where is my parcel?"),
        ("CHAT", "Thank you for contacting us. Goodbye!"),
        ("DISCONNECT", None),
    ]


# -- every built-in, several ways of driving it ----------------------------------------------

CUSTOMERS: dict[str, list[tuple[float, Uplink]]] = {
    "silent": [],
    "chatty": [(t / 2, chat(f"line {t}", f"id-{t}")) for t in range(1, 12)],
    "no ids": [(1.7, chat("")), (2.0, Uplink("INPUT")), (2.5, chat("hello"))],
    "transfer": [(0.4, chat("hi", "x")), (1.0, Uplink("TRANS2AGENT")), (3.0, chat("ok", "y"))],
    "leaves": [(1.2, Uplink("DISCONNECT"))],
}


@pytest.mark.parametrize("customer", list(CUSTOMERS))
@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_push_is_a_valid_push_body_and_replays_quickly(
    name: str, customer: str
) -> None:
    run, timeline = play(name, CUSTOMERS[customer])
    store = default_store()
    for timed in timeline:
        push: PlannedPush = timed.push
        assert not push.faults.any, "built-in scenarios carry no faults"
        if push.call_event is not None:  # for getClickToCallEvents (tests/test_click_to_call.py)
            assert push.messages == ()
            continue
        body = {"timestamp": T1, "messages": list(push.messages)}
        assert store.violations("push-request", body) == [], (push.step, body)
    assert run.outcome in ("completed", "cancelled"), run.error
    if customer == "silent":  # with nobody there, every built-in ends by itself, quickly
        assert run.finished
        assert all(t.at < 10.0 for t in timeline)


def test_every_builtin_finishes_well_under_ten_seconds_without_a_customer() -> None:
    for name in builtin_names():
        run = ScenarioRun(load_builtin(name), context())
        simulate(run, until=5.0)
        assert run.finished, f"{name} still running at 5 s (at {run.position})"
