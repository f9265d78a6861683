"""Inbound fault rules end to end: real sockets, a real aiohttp client, every action.

Each test puts a rule in force (through ``/__admin/faults`` unless it is about another
source), drives the vendor's call sequence with :class:`Customer` and checks what the client
got and what the request journal says. Nothing sleeps in place of an event.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import (
    CCM,
    CHANNEL,
    TOKEN_PATH,
    MakeSim,
    RecordingReceiver,
    Sim,
    channel_doc,
    config_doc,
)

from simulator.server.faults import FAULTS


async def add_rule(sim: Sim, rule: dict[str, Any]) -> dict[str, Any]:
    reply = await sim.admin("POST", "/faults", json_body=rule)
    assert reply.status == 201, reply.text
    created: dict[str, Any] = reply.json
    return created


async def journal(sim: Sim, path_end: str) -> list[dict[str, Any]]:
    reply = await sim.admin("GET", "/requests", params={"path": path_end})
    entries: list[dict[str, Any]] = reply.json["requests"]
    return entries


async def raw_send(sim: Sim, customer: Any, control: str = "CHAT") -> aiohttp.ClientResponse:
    """A send whose response the test reads itself (the body may be slow or broken)."""
    return await sim.http.post(
        f"{sim.base_url}{CCM}/send",
        data=json.dumps(customer.message(control, "hello")),
        headers={**customer.headers(), "Content-Type": "application/json"},
    )


# ------------------------------------------------------------------ answers instead


async def test_status_and_templated_body_answer_instead_of_the_simulator(sim: Sim) -> None:
    customer = sim.customer("cust-1")
    await customer.connect()
    await add_rule(
        sim,
        {
            "id": "chat-13",
            "match": {"endpoint": "send", "controlType": "CHAT"},
            "action": {
                "status": 200,
                "body": {
                    "resultCode": "13",
                    "resultDesc": "no agent for {{userId}} ({{/content}})",
                },
            },
        },
    )
    reply = await customer.send("CHAT", "hi")
    assert reply.status == 200
    assert reply.json == {"resultCode": "13", "resultDesc": "no agent for cust-1 (hi)"}
    # the rule answered: the simulator's session never saw the CHAT
    session = sim.sessions.get(CHANNEL, "cust-1")
    assert session is not None
    assert all(message.get("content") != "hi" for _, message, *_ in session.history.entries)
    [entry] = [e for e in await journal(sim, "send") if e["body"]["controlType"] == "CHAT"]
    assert entry["fault"] == {"rule": "chat-13", "did": "answered 200"}
    assert entry["status"] == 200
    assert entry["body"]["content"] == "hi"  # validated and journaled like any call
    # other calls are untouched
    assert (await customer.send("INPUT", "typing")).json["resultCode"] == "0"


async def test_aicc_down_answers_503_to_everything_with_the_gateway_shape(sim: Sim) -> None:
    customer = sim.customer("cust-2")
    await add_rule(sim, {"action": {"status": 503}})
    reply = await customer.token_by_ak_sk()
    assert reply.status == 503
    assert reply.json["errorCode"] == "503"
    assert "Traceback" not in reply.text
    reply = await sim.request("GET", f"{CCM}/poll", params={"receiverId": "x", "channel": "WEB"})
    assert reply.status == 503
    # only the route table's endpoints are AICC: an unknown path, a wrong method, the admin
    # API and the echo receiver answer as ever, and the rule does not count them
    assert (await sim.request("GET", f"{CCM}/noSuchThing")).status == 404
    assert (await sim.request("DELETE", f"{CCM}/send")).status == 405
    assert (await sim.admin("GET", "/health")).status == 200
    echo = await sim.request("POST", "/__echo/aicc", json_body={"any": "body"})
    assert echo.status != 503
    [listed] = (await sim.admin("GET", "/faults")).json["faults"]
    assert listed["seen"] == listed["fired"] == 2
    # removing the rule brings AICC back
    assert (await sim.admin("DELETE", "/faults")).json == {"removed": 1}
    await customer.connect()


async def test_429_with_retry_after_then_gone_after_times(sim: Sim) -> None:
    customer = sim.customer("cust-3")
    await customer.login()
    await add_rule(sim, {"match": {"endpoint": "send"}, "action": {"retry_after": 2}, "times": 2})
    for _ in range(2):
        reply = await customer.send("CONNECT")
        assert reply.status == 429
        assert reply.headers["Retry-After"] == "2"
    assert (await customer.send("CONNECT")).json["resultCode"] == "0"
    assert (await sim.admin("GET", "/faults")).json == {"faults": []}


async def test_a_malformed_call_is_refused_by_the_contract_not_answered_by_the_rule(
    sim: Sim,
) -> None:
    customer = sim.customer("cust-4")
    await customer.login()
    await add_rule(sim, {"id": "down", "match": {"endpoint": "send"}, "action": {"status": 503}})
    body = customer.message("CONNECT")
    del body["sourceType"]
    reply = await customer.call("send", body)
    assert reply.status == 400
    [entry] = await journal(sim, "send")
    assert entry["fault"] is None
    assert entry["violations"] == 1
    listed = (await sim.admin("GET", "/faults")).json["faults"]
    assert listed[0]["seen"] == 0 and listed[0]["fired"] == 0


# ------------------------------------------------------------------ the connection


async def test_close_without_an_answer(sim: Sim) -> None:
    customer = sim.customer("cust-5")
    await customer.login()
    await add_rule(
        sim,
        {
            "id": "hang-up",
            "match": {"endpoint": "send"},
            "action": {"connection": "close"},
            "times": 1,
        },
    )
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await raw_send(sim, customer)
    [entry] = await journal(sim, "send")
    assert entry["status"] == 0
    assert entry["fault"]["rule"] == "hang-up"
    # the server keeps serving
    assert (await customer.send("CONNECT")).status == 200


async def test_reset_the_connection(sim: Sim) -> None:
    customer = sim.customer("cust-6")
    await customer.login()
    await add_rule(
        sim, {"match": {"endpoint": "send"}, "action": {"connection": "reset"}, "times": 1}
    )
    with pytest.raises(aiohttp.ClientOSError):
        await raw_send(sim, customer)
    assert (await customer.send("CONNECT")).status == 200


# ------------------------------------------------------------------ the simulator's answer, altered


async def test_delay_and_jitter_before_the_real_answer(sim: Sim) -> None:
    customer = sim.customer("cust-7")
    await customer.login()
    await add_rule(
        sim, {"match": {"endpoint": "send"}, "action": {"delay_ms": 150, "jitter_ms": 50}}
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    reply = await customer.send("CONNECT")
    elapsed = loop.time() - started
    assert reply.json["resultCode"] == "0"  # the simulator's own answer, late
    assert elapsed >= 0.15
    [entry] = await journal(sim, "send")
    assert entry["fault"]["did"] == "delay 150+0..50 ms"
    assert entry["latencyMs"] >= 150


async def test_slow_body_is_dribbled_but_complete(sim: Sim) -> None:
    customer = sim.customer("cust-8")
    await customer.login()
    await add_rule(
        sim,
        {
            "match": {"endpoint": "send"},
            "action": {"body_mode": "slow", "chunk_bytes": 8, "interval_ms": 20},
        },
    )
    async with await raw_send(sim, customer, "CONNECT") as response:
        chunks = [chunk async for chunk in response.content.iter_any()]
    body = json.loads(b"".join(chunks))
    assert body["resultCode"] == "0"
    assert len(chunks) > 1  # it came in pieces


async def test_truncated_body_breaks_the_client_read(sim: Sim) -> None:
    customer = sim.customer("cust-9")
    await customer.login()
    await add_rule(sim, {"match": {"endpoint": "send"}, "action": {"body_mode": "truncated"}})
    response = await raw_send(sim, customer, "CONNECT")
    assert response.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()


async def test_not_json_body(sim: Sim) -> None:
    customer = sim.customer("cust-10")
    await customer.login()
    await add_rule(sim, {"match": {"endpoint": "send"}, "action": {"body_mode": "not_json"}})
    reply = await customer.send("CONNECT")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.text)


# ------------------------------------------------------------------ tokens


async def test_expire_access_token_now_next_call_meets_403(sim: Sim) -> None:
    customer = sim.customer("cust-11")
    await customer.connect()
    await add_rule(
        sim,
        {"match": {"endpoint": "send"}, "action": {"token": "expire_access"}, "times": 1},
    )
    assert (await customer.send("CHAT", "one")).json["resultCode"] == "0"
    reply = await customer.send("CHAT", "two")
    assert reply.status == 403
    assert "expired token" in reply.json["exceptionInfo"]
    await customer.token_by_ak_sk()
    assert (await customer.send("CHAT", "three")).json["resultCode"] == "0"


async def test_expire_ccmessaging_token_mid_chat_is_renewed_by_the_next_answer(sim: Sim) -> None:
    customer = sim.customer("cust-12")
    await customer.connect()
    old = customer.token
    await add_rule(
        sim,
        {"match": {"endpoint": "send"}, "action": {"token": "expire_ccmessaging"}, "times": 1},
    )
    assert (await customer.send("CHAT", "one")).json["resultCode"] == "0"
    reply = await customer.send("CHAT", "two")  # expired, session live: AICC renews it
    assert reply.status == 200
    renewed = reply.headers["ccmessaging-token"]
    assert renewed != old
    customer.token = renewed
    assert (await customer.send("CHAT", "three")).json["resultCode"] == "0"


async def test_expire_ccmessaging_token_without_a_session_meets_401(sim: Sim) -> None:
    customer = sim.customer("cust-13")
    await customer.login()
    await add_rule(
        sim,
        {"match": {"endpoint": "queryQueueInfo"}, "action": {"token": "expire_ccmessaging"}},
    )
    await customer.queue_info()
    reply = await customer.send("CONNECT")
    assert reply.status == 401


async def test_renew_ccmessaging_token_on_this_answer(sim: Sim) -> None:
    customer = sim.customer("cust-14")
    await customer.connect()
    old = customer.token
    await add_rule(
        sim,
        {"match": {"endpoint": "send", "nth": 1}, "action": {"token": "renew_ccmessaging"}},
    )
    reply = await customer.send("CHAT", "one")
    assert reply.json["resultCode"] == "0"
    renewed = reply.headers["ccmessaging-token"]
    assert renewed != old
    assert (await customer.send("CHAT", "two")).status == 401  # the old one is refused
    customer.token = renewed
    assert (await customer.send("CHAT", "three")).json["resultCode"] == "0"


# ------------------------------------------------------------------ matching and lifetimes


async def test_nth_calls_range_user_and_header_matching(sim: Sim) -> None:
    alice, bob = sim.customer("alice"), sim.customer("bob")
    await alice.connect()
    await bob.connect()
    await add_rule(
        sim,
        {
            "match": {
                "endpoint": ["send", "sendAsync"],
                "userId": "alice",
                "headers": {"X-Trace": "t1"},
                "calls": [2, 3],
            },
            "action": {"status": 500},
        },
    )
    traced = {**alice.headers(), "X-Trace": "t1"}
    statuses = [
        (await alice.call("send", alice.message("CHAT", "x"), headers=traced)).status
        for _ in range(4)
    ]
    assert statuses == [200, 500, 500, 200]
    assert (await alice.send("CHAT", "x")).status == 200  # no header: not matched
    assert (
        await bob.call("send", bob.message("CHAT", "x"), headers={**bob.headers(), "X-Trace": "t1"})
    ).status == 200


async def test_body_pointer_and_media_type_matching(sim: Sim) -> None:
    customer = sim.customer("cust-15")
    await customer.connect()
    await add_rule(
        sim,
        {
            "match": {"mediaType": "TEXT", "body": {"/content": "boom"}},
            "action": {"status": 502},
        },
    )
    assert (await customer.send("CHAT", "fine")).status == 200
    assert (await customer.send("CHAT", "boom")).status == 502


async def test_seeded_probability_is_reproducible(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    outcomes: list[list[int]] = []
    for _ in range(2):
        sim = await make_sim(config_doc([channel_doc(receiver.url)]))
        customer = sim.customer("dice")
        await customer.connect()
        await add_rule(
            sim,
            {
                "match": {"endpoint": "send", "probability": 0.5, "seed": 7},
                "action": {"status": 503},
            },
        )
        outcomes.append([(await customer.send("CHAT", "x")).status for _ in range(20)])
    assert outcomes[0] == outcomes[1]
    assert 200 in outcomes[0] and 503 in outcomes[0]


async def test_priority_and_several_rules_at_once(sim: Sim) -> None:
    customer = sim.customer("cust-16")
    await customer.connect()
    await add_rule(sim, {"id": "low", "match": {"endpoint": "send"}, "action": {"status": 500}})
    await add_rule(
        sim,
        {
            "id": "high",
            "priority": 10,
            "match": {"endpoint": "send"},
            "action": {"status": 502},
            "times": 1,
        },
    )
    await add_rule(
        sim, {"id": "poll-slow", "match": {"endpoint": "poll"}, "action": {"delay_ms": 1}}
    )
    assert (await customer.send("CHAT", "x")).status == 502
    assert (await customer.send("CHAT", "x")).status == 500
    listed = {r["id"]: r for r in (await sim.admin("GET", "/faults")).json["faults"]}
    assert set(listed) == {"low", "poll-slow"}
    assert listed["low"]["seen"] == 2 and listed["low"]["fired"] == 1
    assert (await sim.admin("DELETE", "/faults/low")).json == {"removed": 1}
    assert (await sim.admin("DELETE", "/faults/low")).status == 404
    assert (await customer.send("CHAT", "x")).status == 200


async def test_until_a_time_in_the_past_means_gone(sim: Sim) -> None:
    customer = sim.customer("cust-17")
    await customer.connect()
    await add_rule(sim, {"match": {"endpoint": "send"}, "action": {"status": 500}, "until": 1})
    assert (await customer.send("CHAT", "x")).status == 200
    assert (await sim.admin("GET", "/faults")).json == {"faults": []}


async def test_fired_rules_are_counted_in_metrics(sim: Sim) -> None:
    customer = sim.customer("cust-18")
    await customer.connect()
    await add_rule(sim, {"id": "m1", "match": {"endpoint": "send"}, "action": {"status": 500}})
    await customer.send("CHAT", "x")
    await customer.send("CHAT", "x")
    text = (await sim.admin("GET", "/metrics")).text
    assert 'aicc_sim_faults_fired_total{rule="m1"} 2' in text


# ------------------------------------------------------------------ admin API


@pytest.mark.parametrize(
    ("rule", "pointer"),
    [
        ({"match": {"endpoint": "send"}}, ""),
        ({"action": {"status": 999}}, "/action/status"),
        ({"action": {"status": 503, "connection": "close"}}, "/action/status"),
        ({"action": {"body_mode": "slow", "chunk_bytes": 0}}, "/action/chunk_bytes"),
        ({"action": {"status": 500}, "match": {"calls": [3, 2]}}, "/match/calls"),
        ({"action": {"status": 500}, "match": {"colour": "red"}}, "/match"),
        ({"action": {"token": "expire_access", "status": 500}}, "/action/token"),
    ],
)
async def test_a_malformed_rule_is_refused_with_the_pointer_of_the_mistake(
    sim: Sim, rule: dict[str, Any], pointer: str
) -> None:
    reply = await sim.admin("POST", "/faults", json_body=rule)
    assert reply.status == 400, reply.text
    assert pointer in [v["pointer"] for v in reply.json["violations"]], reply.text
    assert sim.app[FAULTS].rules == []


async def test_a_rule_naming_an_unknown_endpoint_is_refused_with_a_suggestion(sim: Sim) -> None:
    reply = await sim.admin(
        "POST", "/faults", json_body={"match": {"endpoint": "sendd"}, "action": {"status": 503}}
    )
    assert reply.status == 400, reply.text
    assert reply.json["violations"] == [
        {
            "pointer": "/match/endpoint",
            "message": "'sendd' is not an endpoint of the emulated AICC; did you mean 'send'?",
        }
    ]
    reply = await sim.admin(
        "POST", "/faults", json_body={"match": {"endpoint": "zzz"}, "action": {"status": 503}}
    )
    assert reply.status == 400, reply.text
    [violation] = reply.json["violations"]
    assert "known: tokenByAkSk, applyToken, send, sendAsync, poll" in violation["message"]
    reply = await sim.admin(
        "POST",
        "/faults",
        json_body={"match": {"endpoint": "poll", "method": "POST"}, "action": {"status": 503}},
    )
    assert reply.status == 400, reply.text
    assert reply.json["violations"][0]["pointer"] == "/match/method"
    assert sim.app[FAULTS].rules == []


async def test_a_rule_with_the_same_id_replaces_the_old_one(sim: Sim) -> None:
    await add_rule(sim, {"id": "r", "action": {"status": 500}})
    created = await add_rule(sim, {"id": "r", "action": {"status": 501}})
    assert created["action"] == {"status": 501}
    assert created["source"] == "admin"
    listed = (await sim.admin("GET", "/faults")).json["faults"]
    assert [r["action"]["status"] for r in listed] == [501]


async def test_rules_from_the_config_file_are_in_force_from_start(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    sim = await make_sim(
        config_doc(
            [channel_doc(receiver.url)],
            faults=[{"id": "cfg", "match": {"endpoint": "applyToken"}, "action": {"status": 503}}],
        )
    )
    [listed] = (await sim.admin("GET", "/faults")).json["faults"]
    assert listed["id"] == "cfg" and listed["source"] == "start-up"
    customer = sim.customer("cust-19")
    assert (await customer.token_by_ak_sk()).status == 200
    assert (await customer.apply_token()).status == 503
    [entry] = await journal(sim, "applyToken")
    assert entry["fault"]["rule"] == "cfg"


# ------------------------------------------------------------------ a scenario step

FLAKY_AGENT = """
name: flaky-agent
description: The agent connects; from then on the customer's next CHAT answers 13.
steps:
  - push: {control: CHAT, media: TEXT, source: AGENT, nickname: Alice, content: Hello}
  - fault:
      id: after-agent
      match: {endpoint: send, controlType: CHAT}
      action:
        status: 200
        body: {resultCode: "13", resultDesc: sendUserMessage failed}
      times: 1
  - expect: {control: DISCONNECT}
"""


async def test_a_scenario_fault_step_acts_from_that_point_for_the_runs_customer(
    make_sim: MakeSim, receiver: RecordingReceiver, tmp_path: Any
) -> None:
    (tmp_path / "flaky-agent.yaml").write_text(FLAKY_AGENT)
    sim = await make_sim(
        config_doc(
            [channel_doc(receiver.url, on_connect="flaky-agent")],
            scenario_dirs=[str(tmp_path)],
        )
    )
    other = sim.customer("bystander")
    await other.login()
    customer = sim.customer("cust-20")
    await customer.connect()
    await receiver.wait_message("cust-20", content="Hello")
    # the rule matches the run's customer only
    assert (await other.send("CHAT", "x")).json["resultCode"] == "13"  # no session: 13 anyway
    reply = await customer.send("CHAT", "first")
    assert reply.json == {"resultCode": "13", "resultDesc": "sendUserMessage failed"}
    assert "X-Aicc-Sim-Reason" not in reply.headers  # a rule's answer, not the simulator's
    assert (await customer.send("CHAT", "second")).json["resultCode"] == "0"
    [entry] = [e for e in await journal(sim, "send") if e["fault"]]
    assert entry["fault"]["rule"] == "after-agent"
    assert entry["userId"] == "cust-20"


def test_a_scenario_fault_step_is_listed_as_the_scenarios() -> None:
    from simulator.core.clock import VirtualClock
    from simulator.core.faults import FaultStore
    from simulator.core.validation import default_store
    from simulator.server.faults import from_scenario

    faults = FaultStore(VirtualClock(0))
    from_scenario(faults, default_store())({"id": "s", "action": {"status": 503}})
    [installed] = faults.listing()
    assert installed.to_json()["source"] == "scenario"


def test_a_bad_scenario_fault_step_is_refused_with_its_line(tmp_path: Any) -> None:
    from simulator.core.errors import FileError
    from simulator.scenario import load_library

    bad = FLAKY_AGENT.replace("times: 1", "times: 0")
    (tmp_path / "flaky-agent.yaml").write_text(bad)
    with pytest.raises(FileError) as caught:
        load_library([str(tmp_path)])
    assert "times" in str(caught.value)


def test_a_scenario_fault_step_naming_an_unknown_endpoint_is_refused_with_its_line(
    tmp_path: Any,
) -> None:
    from simulator.core.errors import FileError
    from simulator.scenario import load_library

    bad = FLAKY_AGENT.replace("{endpoint: send,", "{endpoint: snd,")
    (tmp_path / "flaky-agent.yaml").write_text(bad)
    with pytest.raises(FileError) as caught:
        load_library([str(tmp_path)])
    assert caught.value.line == 8  # the match: line
    assert "'snd' is not an endpoint of the emulated AICC; did you mean 'send'?" in str(
        caught.value
    )


# ------------------------------------------------------------------ X-Aicc-Sim-Reason


async def test_every_chosen_non_zero_result_code_says_why(sim: Sim) -> None:
    customer = sim.customer("cust-21")
    await customer.login()
    reply = await customer.send("CHAT", "too early")
    assert reply.json["resultCode"] == "13"
    reason = reply.headers["X-Aicc-Sim-Reason"]
    assert reason == "CHAT without a live session (CONNECT first)"
    [entry] = await journal(sim, "send")
    assert entry["reason"] == reason
    await customer.connect()
    reply = await customer.send("CONNECT")
    assert "X-Aicc-Sim-Reason" not in reply.headers  # resultCode 0: nothing to explain
    await customer.send("TRANS2AGENT")
    reply = await customer.send("TRANS2AGENT")
    assert reply.json["resultCode"] == "13"
    assert reply.headers["X-Aicc-Sim-Reason"].startswith("TRANS2AGENT while the session is")
    # another customer than the token's: refused in the body with the vendor's code
    # (contract.strict off), and it says why
    reply = await customer.call(
        "queryQueueInfo",
        {"userId": "nobody", "channelConfigId": CHANNEL, "channel": "WEB"},
    )
    assert reply.json["resultCode"] == "3"
    assert reply.headers["X-Aicc-Sim-Reason"].startswith(
        "request does not match queue-info-request (/userId: "
    )
    [entry] = await journal(sim, "queryQueueInfo")
    assert entry["violations"] == 1  # still a contract violation for the contract check
    idle = sim.customer("cust-22")
    await idle.login()
    reply = await idle.call(
        "queryQueueInfo",
        {"userId": "cust-22", "channelConfigId": CHANNEL, "channel": "WEB"},
    )
    assert reply.json["resultCode"] == "160004"
    assert reply.headers["X-Aicc-Sim-Reason"] == "no live session for this user on this channel"
    # the next answer on the same keep-alive connection carries no stale reason
    assert "X-Aicc-Sim-Reason" not in (await customer.send("INPUT", "typing")).headers


@pytest.mark.parametrize("status", [200, 204, 304, 404, 418, 500, 503, 599])
async def test_any_status_a_rule_asks_for_is_answered_cleanly(sim: Sim, status: int) -> None:
    await add_rule(sim, {"match": {"endpoint": "tokenByAkSk"}, "action": {"status": status}})
    reply = await sim.request("POST", TOKEN_PATH, json_body={"app_key": "k", "app_secret": "s"})
    assert reply.status == status
    assert "Traceback" not in reply.text


async def test_templates_and_text_bodies(sim: Sim) -> None:
    customer = sim.customer("cust-tpl")
    await customer.connect()
    await add_rule(
        sim,
        {
            "match": {"endpoint": "send"},
            "action": {
                "status": 500,
                "body": "{{endpoint}} {{method}} {{channel}} {{/nothing}} {{/timestamp}} {{x}}",
                "headers": {"X-Upstream": "down"},
            },
        },
    )
    reply = await customer.send("CHAT", "x")
    assert reply.status == 500
    assert reply.headers["X-Upstream"] == "down"
    assert reply.text.startswith(f"send POST {CHANNEL}  ")


async def test_a_caller_that_hangs_up_on_a_slow_body_leaves_the_server_serving(sim: Sim) -> None:
    customer = sim.customer("cust-hang")
    await customer.login()
    await add_rule(
        sim,
        {
            "match": {"endpoint": "send"},
            "action": {"body_mode": "slow", "chunk_bytes": 1, "interval_ms": 50},
            "times": 1,
        },
    )
    response = await raw_send(sim, customer, "CONNECT")
    await response.content.readexactly(2)
    response.close()  # the caller gives up mid-body
    assert (await customer.send("CONNECT")).json["resultCode"] == "0"
    assert sim.app[FAULTS].rules == []  # it acted (times: 1) and the server carried on


async def test_until_a_time_to_come_keeps_the_rule(sim: Sim) -> None:
    await add_rule(sim, {"id": "later", "action": {"status": 500}, "until": "2999-01-01T00:00:00Z"})
    assert [r["id"] for r in (await sim.admin("GET", "/faults")).json["faults"]] == ["later"]
    reply = await sim.admin(
        "POST", "/faults", json_body={"action": {"status": 500}, "until": "not a date"}
    )
    assert reply.status == 400
    assert "/until" in [v["pointer"] for v in reply.json["violations"]]


def _faults_config_error(tmp_path: Any, faults_yaml: str) -> Any:
    """The ConfigError of a config file whose ``faults:`` section is ``faults_yaml``
    (starting on line 4)."""
    from simulator.config import load_config
    from simulator.core.errors import ConfigError

    path = tmp_path / "sim.yaml"
    path.write_text(
        "credentials: [{app_key: k, app_secret: s}]\n"
        "channels: [{id: '1'}]\n"
        "faults:\n" + faults_yaml
    )
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), environ={})
    return caught.value


def test_a_bad_rule_in_the_config_file_names_its_line(tmp_path: Any) -> None:
    error = _faults_config_error(
        tmp_path,
        "  - match: {endpoint: send}\n"
        "    action: {status: 503, connection: close}\n",
    )
    assert error.line == 5
    assert "/faults/0/action/status" in str(error)


def test_a_rule_in_the_config_file_naming_an_unknown_endpoint_names_its_line(
    tmp_path: Any,
) -> None:
    error = _faults_config_error(
        tmp_path,
        "  - action: {status: 503}\n"
        "    match:\n"
        "      endpoint: [send, applytoken]\n",
    )
    assert error.line == 6
    assert str(error).endswith(
        "/faults/0/match/endpoint/1: 'applytoken' is not an endpoint of the emulated AICC; "
        "did you mean 'applyToken'?"
    )


def test_rule_endpoint_names_are_the_route_tables_row_names() -> None:
    from simulator.server.routes import EMULATED

    names = [route.name for route in EMULATED]
    assert names == [
        "tokenByAkSk", "applyToken", "send", "sendAsync", "poll", "queryQueueInfo",
        "uploadFileStream", "downloadFileStream", "queryHistoryChatMessage", "doLeaveMessage",
        "pushMsg", "queryPhraseByKeyword", "getsatisfactionsurveymode", "saveSatisfaction",
        "feedbacksatisfaction", "checkClickToCallSupport", "checkClickToCallSupport",
        "createClickToCall", "getClickToCallEvents", "getClickToCallEvents", "dropClickToCall",
        "files",
    ]  # fmt: skip
    # an operation the vendor documents at two paths (with and without v1/) is one name:
    # a rule matches it at both
    docs = (Path(__file__).parent.parent / "docs" / "faults.md").read_text(encoding="utf-8")
    [row] = [line for line in docs.splitlines() if line.startswith("| `endpoint` |")]
    assert all(f"`{name}`" in row for name in names)


async def test_reasons_and_rules_on_the_newer_endpoints(sim: Sim) -> None:
    customer = sim.customer("cust-new")
    await customer.login()
    # a non-zero answer of a newer capability says why
    reply = await customer.call("v1/dropClickToCall", {"channel": "WEB"})
    assert reply.json["resultCode"] == "13"
    assert reply.headers["X-Aicc-Sim-Reason"] == "dropClickToCall without a live click-to-call"
    [entry] = await journal(sim, "dropClickToCall")
    assert entry["reason"] == "dropClickToCall without a live click-to-call"
    # a rule meets an endpoint whose body is optional when the body is empty, as the
    # router does (an empty body is {})
    await add_rule(
        sim,
        {"match": {"endpoint": "getsatisfactionsurveymode"}, "action": {"status": 503}},
    )
    reply = await sim.request(
        "POST", f"{CCM}/getsatisfactionsurveymode", data=b" ", headers=customer.headers()
    )
    assert reply.status == 503
    [entry] = await journal(sim, "getsatisfactionsurveymode")
    assert entry["fault"] is not None and entry["fault"]["did"] == "answered 503"
