"""Explicit session state: a push step says the state it leads to (``state:``), whatever
its wording; matching the vendor's sample texts is only the fallback for steps that don't."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MakeSim, RecordingReceiver, channel_doc, config_doc

WORDED = """\
name: worded
description: queue and agent announced in words the fallback does not know
steps:
  - push: {control: CHAT, media: TEXT, source: SYSTEM, nickname: SYSTEM, content: Bitte warten}
    QUEUING
  - push: {control: CHAT, media: TEXT, source: SYSTEM, content: Sie sind verbunden}
    AGENT
"""


def _scenario(with_state: bool) -> str:
    return WORDED.replace("QUEUING", "state: queuing" if with_state else "").replace(
        "AGENT", "state: agent" if with_state else ""
    )


@pytest.mark.parametrize("with_state", [True, False])
async def test_a_stated_agent_push_reaches_agent_whatever_its_wording(
    make_sim: MakeSim, receiver: RecordingReceiver, tmp_path: Path, with_state: bool
) -> None:
    (tmp_path / "worded.yaml").write_text(_scenario(with_state), encoding="utf-8")
    sim = await make_sim(
        config_doc(
            [channel_doc(receiver.url, on_connect="worded", robot=True)],
            scenario_dirs=[str(tmp_path)],
        )
    )
    customer = sim.customer("wordy")
    await customer.connect()
    await receiver.wait_message("wordy", content="Sie sind verbunden")
    session = (await sim.admin("GET", "/sessions/wordy")).json["sessions"][0]
    info = await customer.queue_info()
    if with_state:
        assert session["state"] == "agent"
        assert info.json["resultCode"] == "160021", info.text
    else:  # the documented fallback: unknown wording leaves a robot session with the robot
        assert session["state"] == "robot"
        # a live robot session is not "no session" (160004): with the chatbot (an IVR flow),
        # not queuing (README Assumptions)
        assert info.json["resultCode"] == "160022", info.text


async def test_a_stated_queuing_push_makes_queue_info_answer_figures(
    make_sim: MakeSim, receiver: RecordingReceiver, tmp_path: Path
) -> None:
    (tmp_path / "queued.yaml").write_text(
        "name: queued\ndescription: x\nsteps:\n"
        "  - push: {control: CHAT, media: TEXT, source: SYSTEM, content: Einen Moment}\n"
        "    state: queuing\n",
        encoding="utf-8",
    )
    sim = await make_sim(
        config_doc(
            [channel_doc(receiver.url, on_connect="queued", robot=True)],
            scenario_dirs=[str(tmp_path)],
        )
    )
    customer = sim.customer("waiting")
    await customer.connect()
    await receiver.wait_message("waiting", content="Einen Moment")
    info = await customer.queue_info()
    assert info.json["resultCode"] == "0", info.text
    assert "totalWaitTime" in info.json


async def test_a_state_the_schema_does_not_know_is_refused_with_its_place(
    make_sim: MakeSim, receiver: RecordingReceiver, tmp_path: Path
) -> None:
    from simulator.core.errors import SimulatorError
    from simulator.scenario import load_library

    (tmp_path / "bad.yaml").write_text(
        "name: bad\ndescription: x\nsteps:\n  - push: {content: hi}\n    state: busy\n",
        encoding="utf-8",
    )
    with pytest.raises(SimulatorError) as caught:
        load_library([str(tmp_path)])
    assert "state" in str(caught.value)
    assert "bad.yaml" in str(caught.value)
