"""``state.path`` in process (issue 15 item 9): what a restarted simulator gets back (a
live session with its history and poll queue, tokens), what it ends (a running scenario,
journaled), what a reset empties, and that the default keeps nothing and adds nothing."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import CHANNEL, Sim, channel_doc, config_doc

from simulator.config import parse_config
from simulator.core.errors import ConfigError
from simulator.server import RunningServer, start_server
from simulator.server.deliveries import DELIVERIES, DeliveryNote
from simulator.state.persister import PERSISTER, state_middleware
from simulator.state.startup import RUN_ENDED

Start = Callable[[dict[str, Any]], Awaitable[tuple[Sim, RunningServer]]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    """``await start(document)``: a simulator that the test stops itself (a restart)."""
    opened: list[tuple[aiohttp.ClientSession, RunningServer]] = []

    async def run(document: dict[str, Any]) -> tuple[Sim, RunningServer]:
        running = await start_server(parse_config(document, "<test>"))
        http = aiohttp.ClientSession()
        opened.append((http, running))
        return Sim(running.app, running.url, http), running

    yield run
    for http, running in opened:
        await http.close()
        await running.stop()


def _doc(path: Path) -> dict[str, Any]:
    # a poll channel: the scenario's pushes wait in the poll queue, which is kept too
    return config_doc(
        [channel_doc("echo", delivery="poll", speed=1.0)], state={"path": str(path)}
    )


async def test_a_restart_gives_back_the_session_its_history_queue_and_tokens(
    start: Start, tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite"
    sim, running = await start(_doc(path))
    customer = sim.customer("keep-1")
    await customer.connect()
    await sim.app[DELIVERIES].wait_for(lambda item: isinstance(item, DeliveryNote), 10)
    reply = await customer.send("CHAT", "before the restart")
    assert reply.json["resultCode"] == "0"
    before = sim.sessions.get(CHANNEL, "keep-1")
    assert before is not None and before.run_id is not None  # the scenario waits for more
    run_id, call_id, queued = before.run_id, before.call_id, list(before.poll_queue)
    assert queued
    history = before.history_records()
    await running.stop()

    again, _ = await start(_doc(path))
    customer.sim = again
    after = again.sessions.get(CHANNEL, "keep-1")
    assert after is not None and after.active
    assert after.call_id == call_id
    assert after.history_records() == history
    assert after.run_id is None  # ended by the restart, and journaled with its reason
    [note] = [
        e.item
        for e in again.app[DELIVERIES].list()
        if isinstance(e.item, DeliveryNote) and e.item.verdict == RUN_ENDED
    ]
    assert note.run_id == run_id and note.kind == "run"
    assert "restarted" in note.violations[0].message
    # the tokens still work, and what was queued is still there to be polled
    polled = await customer.poll()
    assert polled.status == 200, polled.text
    assert polled.json["downlinkMessages"] == queued
    reply = await customer.send("CHAT", "after the restart")
    assert reply.status == 200 and reply.json["resultCode"] == "0"
    contents = [r["content"] for r in after.history_records()]
    assert "before the restart" in contents and contents[-1] == "after the restart"


async def test_a_reset_empties_the_file(start: Start, tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    sim, running = await start(_doc(path))
    await sim.customer("gone-1").connect()
    assert (await sim.admin("POST", "/reset")).status == 200
    await running.stop()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM tokens").fetchone() == (0,)
    again, _ = await start(_doc(path))
    assert len(again.sessions) == 0


async def test_without_state_path_nothing_is_kept_or_added(start: Start, tmp_path: Path) -> None:
    sim, _ = await start(config_doc([channel_doc("echo")]))
    await sim.customer("mem-1").connect()
    assert PERSISTER not in sim.app
    assert state_middleware not in sim.app.middlewares
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240 (a test's own empty folder)


async def test_a_file_that_is_not_a_state_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"not a database at all, long enough to have a header" * 4)
    with pytest.raises(ConfigError, match="not a usable state file"):
        await start_server(parse_config(_doc(path), "<test>"))


async def test_a_change_that_cannot_be_written_is_not_answered_200(
    start: Start, tmp_path: Path
) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    sim, _ = await start(_doc(folder / "state.sqlite"))
    shutil.rmtree(folder)  # the writer opens the file at the first change: it cannot
    reply = await sim.customer("lost-1").token_by_ak_sk()
    assert reply.status == 500, reply.text
    assert reply.json["errorCode"] == "500"
