"""Receiver faults seen through the server: failed attempts are retried per the delivery
policy (2 attempts, tiny backoff in the test config), every attempt is journaled, and one
bad conversation does not hold up the others (README.md "Push delivery and the auth-v2
signature")."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from conftest import CHANNEL, WAIT, MakeSim, RecordingReceiver, Sim, channel_doc, config_doc

from simulator.delivery.records import AttemptRecord
from simulator.server.deliveries import DELIVERIES


async def _attempts(sim: Sim, user_id: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` delivery attempts for ``user_id``, once journaled."""

    def mine(item: Any) -> bool:
        return str(getattr(item, "conversation", "")).endswith("/" + user_id)

    journal = sim.app[DELIVERIES]
    for n in range(1, count + 1):

        def nth(item: Any, n: int = n) -> bool:
            return mine(item) and getattr(item, "attempt", 0) == n

        await journal.wait_for(nth, WAIT)
    reply = await sim.admin("GET", "/deliveries", params={"userId": user_id})
    found: list[dict[str, Any]] = reply.json["deliveries"]
    return found


@pytest.mark.parametrize(
    ("actions", "verdicts"),
    [
        (("500", "500"), ["http-error", "http-error"]),
        (("code1", "code1"), ["rejected", "rejected"]),
        (("500", "ok"), ["http-error", "accepted"]),
        (("code1", "ok"), ["rejected", "accepted"]),
    ],
)
async def test_failed_attempts_are_retried_and_journaled(
    sim: Sim, receiver: RecordingReceiver, actions: tuple[str, str], verdicts: list[str]
) -> None:
    receiver.script("/flaky", *actions)
    run = await sim.admin(
        "POST",
        "/scenarios/queuing/runs",
        json_body={"userId": "flaky-user", "callbackUrl": receiver.base_url + "/flaky"},
    )
    assert run.status == 201, run.text
    attempts = await _attempts(sim, "flaky-user", 2)
    assert [a["attempt"] for a in attempts] == [1, 2]
    assert [a["verdict"] for a in attempts] == verdicts
    assert len({a["deliveryId"] for a in attempts}) == 1  # two attempts of one delivery
    assert attempts[0]["requestBody"] == attempts[1]["requestBody"]
    assert attempts[0]["responseStatus"] == (500 if actions[0] == "500" else 200)
    assert attempts[0]["error"]
    assert all(a["runId"] == run.json["runId"] for a in attempts)
    # the receiver saw exactly the two identical POSTs
    seen = [p for p in receiver.pushes if p.path == "/flaky"]
    assert len(seen) == 2
    assert seen[0].body == seen[1].body
    # no third attempt: the policy says 2
    filtered = await sim.admin(
        "GET", "/deliveries", params={"userId": "flaky-user", "verdict": verdicts[-1]}
    )
    expected = [2] if verdicts[0] != verdicts[1] else [1, 2]
    assert [a["attempt"] for a in filtered.json["deliveries"]] == expected
    metrics = (await sim.admin("GET", "/metrics")).text.splitlines()
    for verdict in set(verdicts):
        count = verdicts.count(verdict)
        assert f'aicc_sim_delivery_attempts_total{{verdict="{verdict}"}} {count}' in metrics


async def test_receiver_down_is_a_connection_error(sim: Sim) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    run = await sim.admin(
        "POST",
        "/scenarios/queuing/runs",
        json_body={"userId": "down-user", "callbackUrl": f"http://127.0.0.1:{closed_port}/x"},
    )
    assert run.status == 201
    attempts = await _attempts(sim, "down-user", 2)
    assert [a["verdict"] for a in attempts] == ["connection-error", "connection-error"]
    assert all(a["responseStatus"] is None for a in attempts)


async def test_a_stuck_receiver_does_not_hold_up_other_conversations(
    sim: Sim, receiver: RecordingReceiver
) -> None:
    receiver.script("/stuck", "hold")
    stuck = await sim.admin(
        "POST",
        "/scenarios/queuing/runs",
        json_body={"userId": "stuck-user", "callbackUrl": receiver.base_url + "/stuck"},
    )
    assert stuck.status == 201
    await receiver.holding.wait()
    # meanwhile a whole conversation goes through on the normal callback
    customer = sim.customer("free-user")
    await customer.connect()
    await receiver.wait_message("free-user", sourceType="AGENT")
    await customer.send("CHAT", "are you there?", messageId="f-1")
    await receiver.wait_message("free-user", content="You said: are you there?")
    pending = await sim.admin("GET", "/deliveries", params={"userId": "stuck-user"})
    assert pending.json["deliveries"] == []  # still in flight: nothing journaled yet
    receiver.release.set()
    attempts = await _attempts(sim, "stuck-user", 1)
    assert attempts[0]["verdict"] == "accepted"


async def test_per_conversation_order_is_kept_across_retries(
    sim: Sim, receiver: RecordingReceiver
) -> None:
    # the first push fails once; the second must still arrive after the first's retry
    receiver.script("/aicc", "500")
    customer = sim.customer("ordered")
    await customer.connect()
    await receiver.wait_message("ordered", sourceType="AGENT")
    contents = [m["content"] for m in receiver.messages("ordered")]
    assert contents == [
        "Queuing...",  # refused with 500
        "Queuing...",  # the retry
        "The call is connected to an agent.",
        "Hello, this is Alice. How can I help you?",
    ]


async def test_a_push_refused_by_a_full_backlog_does_not_change_the_session(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    delivery = {"attempts": 1, "timeout": 5.0, "max_backlog": 1}
    sim = await make_sim(
        config_doc([channel_doc(receiver.url, on_connect=None)], delivery=delivery)
    )
    customer = sim.customer("flooded")
    await customer.connect()
    receiver.script("/aicc", "hold")
    for text in ("first", "second"):  # one in flight, one waiting: the backlog is full
        reply = await sim.admin(
            "POST", "/sessions/flooded/messages", json_body={"message": {"content": text}}
        )
        assert reply.status == 202, reply.text
    await receiver.holding.wait()
    bye = await sim.admin(
        "POST",
        "/sessions/flooded/messages",
        json_body={"message": {"controlType": "DISCONNECT", "mediaType": None, "content": None}},
    )
    assert bye.status == 202, bye.text
    refused = await sim.app[DELIVERIES].wait_for(
        lambda item: getattr(item, "verdict", None) == "dropped", WAIT
    )
    assert isinstance(refused.item, AttemptRecord)  # a push refused, not a poll hand-off
    assert "backlog full" in (refused.item.error or "")
    # the DISCONNECT was never sent, so the customer's session is still live
    assert sim.sessions.get(CHANNEL, "flooded").active  # type: ignore[union-attr]
    receiver.release.set()
    await receiver.wait_messages("flooded", 2)
    assert [m["content"] for m in receiver.messages("flooded")] == ["first", "second"]
