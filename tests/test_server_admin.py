"""The /__admin API end to end: journals, sessions, runs, inject, reset, metrics, the journal
cap, the admin token, the callback allowlist, and secrets kept out of the journal."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import (
    APP_SECRET,
    CCM,
    CHANNEL,
    MakeSim,
    RecordingReceiver,
    Sim,
    channel_doc,
    config_doc,
)

from simulator.core.clock import VirtualClock
from simulator.scenario import builtin_names
from simulator.server.journal_entries import REQUESTS


async def test_health(sim: Sim) -> None:
    reply = await sim.admin("GET", "/health")
    assert reply.status == 200
    assert reply.json["status"] == "ok"
    assert reply.json["channels"] == [CHANNEL]
    assert reply.json["sessions"] == 0


async def test_requests_journal_filters_and_clear(sim: Sim) -> None:
    alice, bob = sim.customer("alice"), sim.customer("bob")
    await alice.connect()
    await bob.login()
    await bob.send("CHAT", "no session yet")
    await bob.call("send", {"broken": True})

    every = (await sim.admin("GET", "/requests")).json
    assert every["total"] == len(every["requests"]) == 7
    assert every["dropped"] == 0
    seqs = [r["seq"] for r in every["requests"]]
    assert seqs == sorted(seqs)

    async def count(**params: str) -> list[dict[str, object]]:
        reply = await sim.admin("GET", "/requests", params=params)
        assert reply.status == 200, reply.text
        found: list[dict[str, object]] = reply.json["requests"]
        return found

    sends = await count(path="send")
    assert [r["path"] for r in sends] == [f"{CCM}/send"] * 3
    assert len(await count(path=f"{CCM}/send")) == 3
    assert len(await count(path="tokenByAkSk")) == 2
    assert len(await count(method="post")) == 7
    assert len(await count(method="GET")) == 0
    bad = await count(status="400")
    assert len(bad) == 1 and bad[0]["userId"] == "bob"
    assert len(await count(userId="alice")) == 2  # applyToken and CONNECT carry the user
    assert [r["path"] for r in await count(userId="bob", path="send")] == [f"{CCM}/send"] * 2
    first_two = await count(limit="2")
    assert [r["seq"] for r in first_two] == seqs[:2]
    after = await count(since=str(seqs[4]))
    assert [r["seq"] for r in after] == seqs[5:]

    cleared = await sim.admin("DELETE", "/requests")
    assert cleared.status == 200
    again = (await sim.admin("GET", "/requests")).json
    assert again["requests"] == []
    assert again["lastSeq"] == seqs[-1]  # sequence numbers keep growing
    await alice.send("INPUT", "")
    newest = (await sim.admin("GET", "/requests")).json["requests"]
    assert [r["seq"] for r in newest] == [seqs[-1] + 1]


async def test_deliveries_filters(sim: Sim, receiver: RecordingReceiver) -> None:
    one, two = sim.customer("d-one"), sim.customer("d-two")
    await one.connect()
    await two.connect()
    await receiver.wait_message("d-one", sourceType="AGENT")
    await receiver.wait_message("d-two", sourceType="AGENT")
    everything = (await sim.admin("GET", "/deliveries")).json["deliveries"]
    assert len(everything) >= 6
    mine = (await sim.admin("GET", "/deliveries", params={"userId": "d-one"})).json
    assert len(mine["deliveries"]) == 3
    assert all(d["conversation"] == f"{CHANNEL}/d-one" for d in mine["deliveries"])
    assert all(d["verdict"] == "accepted" for d in mine["deliveries"])
    run_id = mine["deliveries"][0]["runId"]
    by_run = (await sim.admin("GET", "/deliveries", params={"runId": run_id})).json
    assert [d["deliveryId"] for d in by_run["deliveries"]] == [
        d["deliveryId"] for d in mine["deliveries"]
    ]
    none = (await sim.admin("GET", "/deliveries", params={"verdict": "http-error"})).json
    assert none["deliveries"] == []


async def test_sessions(sim: Sim, receiver: RecordingReceiver) -> None:
    customer = sim.customer("s-user")
    await customer.connect()
    await receiver.wait_message("s-user", sourceType="AGENT")
    listed = (await sim.admin("GET", "/sessions")).json["sessions"]
    assert [(s["userId"], s["channelId"], s["state"]) for s in listed] == [
        ("s-user", CHANNEL, "agent")
    ]
    one = await sim.admin("GET", "/sessions/s-user")
    assert one.status == 200
    assert one.json["userId"] == "s-user"
    assert [h["content"] for h in one.json["sessions"][0]["history"]][1] == "Queuing..."
    unknown = await sim.admin("GET", "/sessions/nobody")
    assert unknown.status == 404
    assert "nobody" in unknown.json["detail"]


async def test_scenarios_list(sim: Sim) -> None:
    reply = await sim.admin("GET", "/scenarios")
    names = [s["name"] for s in reply.json["scenarios"]]
    assert set(builtin_names()) <= set(names)
    assert {
        "queuing",
        "connected",
        "agent-disconnect",
        "timeout-async-off",
        "timeout-async-on",
        "read-receipt",
        "agent-media",
        "robot-transfer",
        "after-hours",
        "full-conversation",
    } <= set(names)
    assert all(s["description"] for s in reply.json["scenarios"])


async def test_start_and_follow_a_run(sim: Sim, receiver: RecordingReceiver) -> None:
    created = await sim.admin(
        "POST", "/scenarios/queuing/runs", json_body={"userId": "run-user", "vars": {}}
    )
    assert created.status == 201, created.text
    run_id = created.json["runId"]
    assert created.headers["Location"] == f"/__admin/runs/{run_id}"
    message = await receiver.wait_message("run-user", content="Queuing...")
    assert message["from"] == CHANNEL
    run = await sim.admin("GET", f"/runs/{run_id}")
    assert run.status == 200
    assert run.json["runId"] == run_id
    assert run.json["scenario"] == "queuing"
    assert run.json["userId"] == "run-user"
    assert run.json["trigger"] == "admin"
    deliveries = (await sim.admin("GET", "/deliveries", params={"runId": run_id})).json
    assert len(deliveries["deliveries"]) == 1
    # the run made a session that queries see as queuing
    customer = sim.customer("run-user")
    await customer.login()
    assert (await customer.queue_info()).json["resultCode"] == "0"


@pytest.mark.parametrize(
    ("path", "body", "status", "pointer"),
    [
        ("/scenarios/no-such-scenario/runs", {"userId": "u"}, 404, None),
        ("/scenarios/queuing/runs", {}, 400, ""),
        ("/scenarios/queuing/runs", {"userId": "u", "extra": 1}, 400, ""),
        ("/scenarios/queuing/runs", {"userId": 5}, 400, "/userId"),
        ("/scenarios/queuing/runs", {"userId": "u", "callbackUrl": "ftp://x"}, 400, "/callbackUrl"),
        ("/scenarios/queuing/runs", {"userId": "u", "channelId": "nope"}, 404, None),
        ("/scenarios/connected/runs", {"userId": "u", "vars": {"notAVar": 1}}, 400, None),
    ],
)
async def test_bad_run_requests(
    sim: Sim, path: str, body: dict[str, object], status: int, pointer: str | None
) -> None:
    reply = await sim.admin("POST", path, json_body=body)
    assert reply.status == status, reply.text
    if pointer is not None:
        assert pointer in [v["pointer"] for v in reply.json["violations"]]


async def test_unknown_run_is_404(sim: Sim) -> None:
    assert (await sim.admin("GET", "/runs/run-999999")).status == 404


async def test_inject_into_a_live_session(sim: Sim, receiver: RecordingReceiver) -> None:
    customer = sim.customer("inject-me")
    await customer.connect()
    await receiver.wait_message("inject-me", sourceType="AGENT")
    reply = await sim.admin(
        "POST",
        "/sessions/inject-me/messages",
        json_body={"messages": [{"content": "From the admin API"}, {"content": "And another"}]},
    )
    assert reply.status == 202, reply.text
    first = await receiver.wait_message("inject-me", content="From the admin API")
    second = await receiver.wait_message("inject-me", content="And another")
    assert first["sourceType"] == "AGENT" and first["controlType"] == "CHAT"
    assert first["to"] == "inject-me" and first["from"] == CHANNEL
    # both in one push, as one batch
    push = next(p for p in receiver.pushes if first in p.messages)
    assert second in push.messages
    # an injected DISCONNECT from the agent ends the session
    bye = await sim.admin(
        "POST",
        "/sessions/inject-me/messages",
        json_body={"message": {"controlType": "DISCONNECT", "mediaType": None, "content": None}},
    )
    assert bye.status == 202, bye.text
    await receiver.wait_message("inject-me", controlType="DISCONNECT")
    session = (await sim.admin("GET", "/sessions/inject-me")).json["sessions"][0]
    assert session["state"] == "ended"
    after = await sim.admin(
        "POST", "/sessions/inject-me/messages", json_body={"message": {"content": "late"}}
    )
    assert after.status == 404


async def test_inject_checks_the_message(sim: Sim, receiver: RecordingReceiver) -> None:
    customer = sim.customer("inject-bad")
    await customer.connect()
    wrong = {"message": {"controlType": "TYPING"}}
    refused = await sim.admin("POST", "/sessions/inject-bad/messages", json_body=wrong)
    assert refused.status == 400, refused.text
    # on purpose: invalid true sends it anyway, and the journal marks it
    forced = await sim.admin(
        "POST", "/sessions/inject-bad/messages", json_body={**wrong, "invalid": True}
    )
    assert forced.status == 202
    await receiver.wait_message("inject-bad", controlType="TYPING")
    marked = (await sim.admin("GET", "/deliveries", params={"userId": "inject-bad"})).json
    assert any(d["invalidByDesign"] for d in marked["deliveries"])


async def test_inject_without_a_live_session_is_404(sim: Sim) -> None:
    reply = await sim.admin(
        "POST", "/sessions/ghost/messages", json_body={"message": {"content": "hi"}}
    )
    assert reply.status == 404
    assert "ghost" in reply.json["detail"]


async def test_reset_forgets_everything(sim: Sim, receiver: RecordingReceiver) -> None:
    customer = sim.customer("reset-me")
    await customer.connect()
    await receiver.wait_message("reset-me", sourceType="AGENT")
    reply = await sim.admin("POST", "/reset")
    assert reply.status == 200
    assert (await sim.admin("GET", "/sessions")).json["sessions"] == []
    assert (await sim.admin("GET", "/requests")).json["requests"] == []
    assert (await sim.admin("GET", "/deliveries")).json["deliveries"] == []
    assert (await sim.admin("GET", "/runs")).json["runs"] == []
    # tokens are forgotten too
    refused = await customer.send("CHAT", "still here?")
    assert refused.status == 401
    await customer.login()
    assert (await customer.send("CONNECT")).json["resultCode"] == "0"


async def test_metrics_are_prometheus_text(sim: Sim, receiver: RecordingReceiver) -> None:
    customer = sim.customer("metered")
    await customer.connect()
    await receiver.wait_message("metered", sourceType="AGENT")
    await customer.call("send", {"bad": 1})
    reply = await sim.admin("GET", "/metrics")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/plain")
    lines = reply.text.splitlines()
    assert "# TYPE aicc_sim_requests_total counter" in lines
    assert f'aicc_sim_requests_total{{path="{CCM}/send",status="200"}} 1' in lines
    assert f'aicc_sim_requests_total{{path="{CCM}/send",status="400"}} 1' in lines
    assert 'aicc_sim_delivery_attempts_total{verdict="accepted"} 3' in lines
    assert "aicc_sim_sessions 1" in lines
    for line in lines:
        assert line.startswith("#") or len(line.split(" ")) == 2, line


async def test_metrics_label_unknown_paths_by_route_not_by_path(sim: Sim) -> None:
    for n in range(3):
        assert (await sim.request("GET", f"/fuzzed/{n}")).status == 404
    lines = (await sim.admin("GET", "/metrics")).text.splitlines()
    assert 'aicc_sim_requests_total{path="<unmatched>",status="404"} 3' in lines
    assert not any("/fuzzed/" in line for line in lines)


async def test_journal_cap_keeps_the_newest(make_sim: MakeSim, receiver: RecordingReceiver) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url)], journal={"capacity": 5}))
    customer = sim.customer("capped")
    await customer.login()  # 2 requests
    for n in range(6):
        await customer.send("INPUT", str(n))  # 6 more: 8 in all
    reply = (await sim.admin("GET", "/requests")).json
    assert reply["total"] == 8
    assert reply["dropped"] == 3
    assert [r["seq"] for r in reply["requests"]] == [4, 5, 6, 7, 8]
    assert [r["body"]["content"] for r in reply["requests"]] == ["1", "2", "3", "4", "5"]
    metrics = (await sim.admin("GET", "/metrics")).text
    assert "aicc_sim_journal_requests_dropped 3" in metrics.splitlines()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"X-Admin-Token": "wrong"}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"X-Admin-Token": "s3cret-admin"}, 200),
        ({"Authorization": "Bearer s3cret-admin"}, 200),
    ],
)
async def test_admin_token(
    make_sim: MakeSim, receiver: RecordingReceiver, headers: dict[str, str], status: int
) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url)], admin={"token": "s3cret-admin"}))
    assert (await sim.admin("GET", "/health")).status == 200  # never needs the token
    for method, path in [("GET", "/requests"), ("GET", "/sessions"), ("POST", "/reset")]:
        reply = await sim.admin(method, path, headers=headers)
        assert reply.status == status, (path, reply.text)
    # the emulated endpoints are not affected
    customer = sim.customer("plain")
    await customer.login()


async def test_callback_allowlist(make_sim: MakeSim, receiver: RecordingReceiver) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url)], callback_allowlist=["127.0.0.1"]))
    refused = await sim.admin(
        "POST",
        "/scenarios/queuing/runs",
        json_body={"userId": "al", "callbackUrl": "http://evil.example.com/hook"},
    )
    assert refused.status == 400, refused.text
    assert refused.json["violations"][0]["pointer"] == "/callbackUrl"
    assert "evil.example.com" in refused.json["violations"][0]["message"]
    allowed = await sim.admin(
        "POST",
        "/scenarios/queuing/runs",
        json_body={"userId": "al", "callbackUrl": receiver.base_url + "/elsewhere"},
    )
    assert allowed.status == 201, allowed.text
    await receiver.wait_message("al", content="Queuing...")
    assert [p.path for p in receiver.pushes_to("al")] == ["/elsewhere"]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


async def test_secrets_never_reach_the_journal(
    make_sim: MakeSim, receiver: RecordingReceiver, tmp_path: Path
) -> None:
    clock = VirtualClock()
    journal = tmp_path / "journal"
    sim = await make_sim(
        config_doc(
            [channel_doc(receiver.url, idle_timeout=3600)],  # live after a virtual minute
            tokens={"ccmessaging_token_ttl": 60},
            journal={"path": str(journal)},
        ),
        clock=clock,
    )
    customer = sim.customer("secretive")
    await customer.login(expire="3600")
    await customer.connect()
    first_token = customer.token
    clock.advance(61_000)
    renewed = await customer.send("CHAT", "renew me")
    customer.token = renewed.headers["ccmessaging-token"]
    await customer.send("CHAT", "with the new one")
    # the scenario's steps run on the virtual clock: move it from one step to the next
    await clock.run_until(receiver.wait_message("secretive", content="You said: with the new one"))
    push_bearer = receiver.pushes[0].headers["Authorization"].split(" ", 1)[1]
    secrets = [customer.access_token, first_token, customer.token, APP_SECRET, push_bearer]

    requests = (await sim.admin("GET", "/requests")).text
    deliveries = (await sim.admin("GET", "/deliveries")).text
    for secret in secrets:
        assert secret not in requests
        assert secret not in deliveries
    assert "Bearer ***" in requests
    shown = [
        r["headers"].get("ccmessaging-token")
        for r in (await sim.admin("GET", "/requests")).json["requests"]
    ]
    assert set(shown) <= {None, "***"}
    assert "***" in shown  # session calls carried one, so the check above is not vacuous
    # the journal file gets the same redacted view
    sim.app[REQUESTS].flush()
    written = _read(Path(f"{journal}.requests.jsonl"))
    assert written
    for secret in secrets:
        assert secret not in written


async def test_a_run_failed_by_a_bad_variable_says_why(sim: Sim) -> None:
    created = await sim.admin(
        "POST",
        "/scenarios/connected/runs",
        json_body={"userId": "bad-vars", "vars": {"queueWait": "soon"}},
    )
    assert created.status == 201, created.text
    run = (await sim.admin("GET", f"/runs/{created.json['runId']}")).json
    assert run["status"] == "failed"
    assert run["error"], run


async def test_a_refused_run_request_changes_nothing(sim: Sim, receiver: RecordingReceiver) -> None:
    customer = sim.customer("keep-me")
    await customer.connect()
    await receiver.wait_message("keep-me", sourceType="AGENT")
    before = (await sim.admin("GET", "/sessions/keep-me")).json["sessions"]
    live_run = before[-1]["runId"]
    runs_before = (await sim.admin("GET", "/runs")).json["runs"]
    refused = await sim.admin(
        "POST", "/scenarios/read-receipt/runs", json_body={"userId": "keep-me", "vars": {"x": 1}}
    )
    assert refused.status == 400, refused.text
    assert "no variable 'x'" in refused.text
    # the customer's own run goes on, no run was added, and nobody new got a session
    assert (await sim.admin("GET", f"/runs/{live_run}")).json["status"] == "running"
    assert (await sim.admin("GET", "/runs")).json["runs"] == runs_before
    nobody = await sim.admin(
        "POST", "/scenarios/queuing/runs", json_body={"userId": "new-one", "vars": {"y": 2}}
    )
    assert nobody.status == 400
    assert (await sim.admin("GET", "/sessions/new-one")).status == 404
