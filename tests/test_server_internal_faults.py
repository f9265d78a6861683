"""An internal fault (a capability that raises) is answered 500 with a JSON body, logged
once and journaled: never disguised as the caller's 400, and the server keeps serving."""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import pytest
from conftest import CCM, MakeSim, RecordingReceiver, channel_doc, config_doc

from simulator.core.errors import DeliveryError
from simulator.server.history import HISTORY
from simulator.server.inject import INJECT


@pytest.mark.parametrize("fault", [RuntimeError("boom"), DeliveryError("worker gone")])
async def test_a_failing_capability_is_a_500_logged_once_and_journaled(
    make_sim: MakeSim,
    receiver: RecordingReceiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fault: Exception,
) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url)]))
    customer = sim.customer("victim")
    await customer.connect()

    def broken(body: Any) -> NoReturn:
        raise fault

    monkeypatch.setattr(sim.app[HISTORY], "answer", broken)
    caplog.set_level(logging.ERROR, logger="simulator")
    reply = await customer.call(  # a valid call: the caller did nothing wrong
        "queryHistoryChatMessage",
        {"userId": "victim", "channelId": customer.channel_id, "offset": "0", "limit": "10",
         "channel": "WEB"},
    )  # fmt: skip
    assert reply.status == 500, reply.text  # a SimulatorError subclass too: not a 400
    assert reply.json["errorCode"] == "500"
    assert type(fault).__name__ in reply.json["detail"]
    faults = [r for r in caplog.records if "internal fault" in r.getMessage()]
    assert len(faults) == 1
    assert faults[0].exc_info is not None  # the traceback is in the log, not the answer
    journal = await sim.admin("GET", "/requests", params={"status": "500"})
    assert [r["path"] for r in journal.json["requests"]] == [f"{CCM}/queryHistoryChatMessage"]
    # the server keeps serving
    assert (await customer.send("CHAT", "still up?")).json["resultCode"] == "0"


async def test_an_internal_fault_in_an_admin_call_is_journaled_too(
    make_sim: MakeSim, receiver: RecordingReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = await make_sim(config_doc([channel_doc(receiver.url)]))

    def broken(*args: Any, **kwargs: Any) -> NoReturn:
        raise KeyError("lost")

    monkeypatch.setattr(sim.app[INJECT], "inject", broken)
    reply = await sim.admin(
        "POST", "/sessions/anyone/messages", json_body={"message": {"content": "hi"}}
    )
    assert reply.status == 500, reply.text
    journal = await sim.admin("GET", "/requests", params={"status": "500"})
    assert [r["path"] for r in journal.json["requests"]] == ["/__admin/sessions/anyone/messages"]
    ok = await sim.admin("GET", "/sessions")
    assert ok.status == 200
    assert (await sim.admin("GET", "/requests", params={"path": "/__admin/sessions"})).json[
        "requests"
    ] == []  # a healthy admin call is still not journaled
