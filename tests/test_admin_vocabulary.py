"""One error vocabulary on the admin API (issue 17, item 3), end to end over real sockets:
an unknown ``verdict`` is a 400 naming the allowed ones (like ``limit=abc``), a per-run
``callbackUrl: "echo"`` is taken as the config and ``set_callback`` take it, the admin 401
says the admin token is missing, and the echo receiver's own requests are kept apart from the
integration's calls in ``/__admin/requests``."""

from __future__ import annotations

from conftest import MakeSim, RecordingReceiver, Sim, channel_doc, config_doc

from simulator.server.deliveries import DELIVERIES, DELIVERY_VERDICTS
from simulator.server.http import ERROR_TEXTS
from simulator.server.journal_entries import REQUESTS
from simulator.testing.matching import RequestMatch


async def test_unknown_verdict_is_a_400_naming_the_allowed_ones(sim: Sim) -> None:
    reply = await sim.admin("GET", "/deliveries", params={"verdict": "bogus"})
    assert reply.status == 400, reply.text
    (violation,) = reply.json["violations"]
    assert violation["pointer"] == "/verdict"
    for verdict in ("accepted", "rejected", "http-error", "timeout", "queued-for-poll"):
        assert verdict in violation["message"]
    assert "'bogus'" in violation["message"]
    # the same shape as a bad integer
    limit = await sim.admin("GET", "/deliveries", params={"limit": "abc"})
    assert limit.status == 400 and limit.json["violations"][0]["pointer"] == "/limit"
    assert limit.json["detail"] == reply.json["detail"]


async def test_every_known_verdict_is_accepted(sim: Sim, receiver: RecordingReceiver) -> None:
    await sim.customer("u1").connect()
    await receiver.wait_messages("u1", 1)
    for verdict in DELIVERY_VERDICTS:
        reply = await sim.admin("GET", "/deliveries", params={"verdict": verdict})
        assert reply.status == 200, (verdict, reply.text)
        assert all(d["verdict"] == verdict for d in reply.json["deliveries"])
    accepted = await sim.admin("GET", "/deliveries", params={"verdict": "accepted"})
    assert accepted.json["deliveries"], "the CONNECT's first push was accepted"


async def test_a_run_may_push_to_the_echo_receiver(
    make_sim: MakeSim, receiver: RecordingReceiver
) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url)]))
    reply = await sim.admin(
        "POST", "/scenarios/queuing/runs", json_body={"userId": "u1", "callbackUrl": "echo"}
    )
    assert reply.status == 201, reply.text
    run_id = reply.json["runId"]
    journal = sim.app[DELIVERIES]
    if not any(e.item.run_id == run_id for e in journal.list()):
        await journal.wait_for(lambda item: item.run_id == run_id, 5.0, since=0)
    found = (await sim.admin("GET", "/deliveries", params={"runId": run_id})).json
    (delivery,) = found["deliveries"]
    assert delivery["verdict"] == "accepted"
    assert delivery["url"] == sim.base_url + "/__echo/aicc"
    assert receiver.messages("u1") == [], "the channel's own receiver got nothing"
    # anything else that is not a URL is still refused, naming the field
    bad = await sim.admin(
        "POST", "/scenarios/queuing/runs", json_body={"userId": "u1", "callbackUrl": "echoes"}
    )
    assert bad.status == 400
    assert bad.json["violations"][0]["pointer"] == "/callbackUrl"


async def test_admin_401_says_the_admin_token_is_missing(make_sim: MakeSim) -> None:
    sim = await make_sim(config_doc([channel_doc("echo")], admin={"token": "s3cret-admin"}))
    missing = await sim.admin("GET", "/requests")
    assert missing.status == 401
    assert "admin token" in missing.json["exceptionInfo"]
    assert "purchased" not in missing.json["exceptionInfo"]
    assert "no admin token" in missing.json["detail"]
    wrong = await sim.admin("GET", "/requests", headers={"X-Admin-Token": "nope"})
    assert wrong.status == 401 and "wrong admin token" in wrong.json["detail"]
    assert "s3cret-admin" not in wrong.text
    # the emulated endpoints keep the vendor's text
    vendor = await sim.request("POST", "/apiaccess/ccmessaging/send", json_body={})
    assert vendor.status == 401
    assert vendor.json["exceptionInfo"] == ERROR_TEXTS[401]


async def test_echo_requests_are_kept_apart(make_sim: MakeSim) -> None:
    sim = await make_sim(config_doc([channel_doc("echo")]))
    await sim.customer("u1").connect()  # the connected scenario pushes to the echo receiver
    journal = sim.app[REQUESTS]
    if not any(e.item.echo for e in journal.list()):
        await journal.wait_for(lambda item: item.echo, 5.0, since=0)

    calls = (await sim.admin("GET", "/requests")).json["requests"]
    assert calls and not any(r["echo"] for r in calls)
    assert {r["path"].rsplit("/", 1)[-1] for r in calls} == {"tokenByAkSk", "applyToken", "send"}

    every = (await sim.admin("GET", "/requests", params={"includeEcho": "true"})).json["requests"]
    echoes = [r for r in every if r["echo"]]
    assert echoes and all(r["path"] == "/__echo/aicc" for r in echoes)
    assert len(every) == len(calls) + len(echoes)

    named = (await sim.admin("GET", "/requests", params={"path": "/__echo/aicc"})).json
    # the scenario's timed pushes (1 s, 1.5 s) may land between the two reads: compare what
    # both saw
    last = max(r["seq"] for r in every)
    assert [r["seq"] for r in named["requests"] if r["seq"] <= last] == [r["seq"] for r in echoes]

    bad = await sim.admin("GET", "/requests", params={"includeEcho": "maybe"})
    assert bad.status == 400 and bad.json["violations"][0]["pointer"] == "/includeEcho"

    # the waits' matching follows the same rule
    echo_entry = echoes[0]
    assert not RequestMatch()(echo_entry)
    assert RequestMatch(path="/__echo/aicc")(echo_entry)
    assert RequestMatch()(calls[0])
