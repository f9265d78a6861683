"""The per-conversation push backlog cap (``delivery.max_backlog``), over real sockets."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from receivers import Recorder, serving

from simulator.config import load_config
from simulator.core.errors import ConfigError
from simulator.core.push import PlannedPush, PushTarget, RetryPolicy
from simulator.core.validation import default_store
from simulator.delivery.worker import AttemptRecord, Deliverer, DeliveryResult

WAIT = 5.0  # generous bound for every wait on an event
STAMP = 1625898453913
FULL = "conversation backlog full: 3 pushes waiting (delivery.max_backlog)"


@dataclass
class Holder(Recorder):
    """Records every request, then holds it until ``release`` is set (the lane stalls)."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        async with self.arrived:
            self.arrived.notify_all()
        await self.release.wait()
        return web.json_response({"resultCode": "0", "resultDesc": "success."})

    async def wait_for(self, content: str) -> None:
        """Wait until a push carrying ``content`` has reached the receiver."""

        def got() -> bool:
            return any(content in s.contents for s in self.seen)

        async with asyncio.timeout(WAIT), self.arrived:
            await self.arrived.wait_for(got)


@pytest.fixture
async def holder() -> AsyncIterator[Holder]:
    recv = Holder()
    async with serving(recv.handle) as base_url:
        recv.base_url = base_url
        yield recv
        recv.release.set()  # let held handlers finish before the server closes


@dataclass
class Harness:
    deliverer: Deliverer
    records: list[AttemptRecord]


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    records: list[AttemptRecord] = []
    async with aiohttp.ClientSession() as session:
        deliverer = Deliverer(
            session,
            policy=RetryPolicy(attempts=1, timeout=WAIT, max_backlog=3),
            store=default_store(),
            on_attempt=records.append,
            clock_ms=lambda: STAMP,
        )
        try:
            yield Harness(deliverer, records)
        finally:
            await deliverer.close()


def push(content: str) -> PlannedPush:
    message: dict[str, Any] = {
        "from": "202105284494222653",
        "channel": "WEB",
        "to": "44444444",
        "controlType": "CHAT",
        "mediaType": "TEXT",
        "content": content,
        "senderNickname": "SYSTEM",
        "timestamp": STAMP,
        "sourceType": "SYSTEM",
    }
    return PlannedPush((message,), step=f"steps[{content}]")


def oauth(url: str) -> PushTarget:
    return PushTarget(url=url, mode="oauth", app_key="sim-app-key", bearer_token="tok-123")


async def results(futures: list[asyncio.Future[DeliveryResult]]) -> list[DeliveryResult]:
    async with asyncio.timeout(WAIT):
        return list(await asyncio.gather(*futures))


# --------------------------------------------------------------------------------------------
# the cap over real sockets


async def test_full_lane_drops_at_once_and_keeps_the_accepted_order(
    holder: Holder, harness: Harness
) -> None:
    deliverer, records = harness.deliverer, harness.records
    target = oauth(holder.url)
    first = deliverer.submit("c1", target, push("a1"), run_id="r1")
    await holder.wait_for("a1")  # a1 is in flight, held by the receiver
    queued = [deliverer.submit("c1", target, push(f"a{i}"), run_id="r1") for i in (2, 3, 4)]
    extra = [deliverer.submit("c1", target, push(f"x{i}"), run_id="r1") for i in (1, 2)]

    # refused at once: resolved before any await, journaled, never queued
    assert [f.done() for f in [first, *queued]] == [False] * 4
    assert all(f.done() for f in extra)
    dropped = [f.result() for f in extra]
    assert [(r.conversation, r.verdict, r.attempts, r.last_status, r.error) for r in dropped] == [
        ("c1", "dropped", 0, None, FULL)
    ] * 2
    assert not any(r.ok for r in dropped)
    assert deliverer.pending == 4
    assert len(records) == 2
    for record, result, content in zip(records, dropped, ("x1", "x2"), strict=True):
        assert record.delivery_id == result.delivery_id
        assert (record.verdict, record.attempt, record.error) == ("dropped", 0, FULL)
        assert (record.conversation, record.run_id, record.url) == ("c1", "r1", holder.url)
        assert (record.response_status, record.duplicate, record.faults) == (None, False, None)
        assert record.step == f"steps[{content}]"
        assert json.loads(record.request_body)["messages"][0]["content"] == content
        assert dict(record.request_headers)["Authorization"] == "Bearer ***"
    assert [s.contents for s in holder.seen] == [["a1"]]  # nothing else sent yet

    holder.release.set()
    accepted = await results([first, *queued])
    assert [r.verdict for r in accepted] == ["accepted"] * 4
    await deliverer.drain()
    assert [s.contents for s in holder.seen] == [["a1"], ["a2"], ["a3"], ["a4"]]
    sent = [(r.request_body, r.verdict) for r in records if r.attempt > 0]
    assert [json.loads(body)["messages"][0]["content"] for body, _ in sent] == [
        "a1",
        "a2",
        "a3",
        "a4",
    ]
    assert [r.verdict for r in records].count("dropped") == 2

    # with room again, the conversation queues normally
    again = await results([deliverer.submit("c1", target, push("a5"))])
    assert again[0].verdict == "accepted"
    assert holder.seen[-1].contents == ["a5"]


async def test_another_conversation_is_unaffected(holder: Holder, harness: Harness) -> None:
    deliverer = harness.deliverer
    target = oauth(holder.url)
    c1 = [deliverer.submit("c1", target, push(f"a{i}")) for i in range(1, 5)]
    over = deliverer.submit("c1", target, push("x1"))
    assert over.done() and over.result().verdict == "dropped"

    # c2 has its own lane: its first push goes out while c1 is stalled, and it may queue 3
    c2 = [deliverer.submit("c2", target, push(f"b{i}")) for i in range(1, 5)]
    assert not any(f.done() for f in c2)
    await holder.wait_for("b1")
    await holder.wait_for("a1")

    holder.release.set()
    assert [r.verdict for r in await results(c1 + c2)] == ["accepted"] * 8
    by_conversation: dict[str, list[str]] = {"a": [], "b": []}
    for seen in holder.seen:
        [content] = seen.contents
        by_conversation[content[0]].append(content)
    assert by_conversation == {"a": ["a1", "a2", "a3", "a4"], "b": ["b1", "b2", "b3", "b4"]}
    dropped = [r for r in harness.records if r.verdict == "dropped"]
    assert [(r.conversation, r.error) for r in dropped] == [("c1", FULL)]


async def test_on_attempt_bug_reaches_the_caller(holder: Holder) -> None:
    # a bug in on_attempt reaches the caller through the future, as on the lane's path
    class Boom(Exception):
        pass

    def explode(record: AttemptRecord) -> None:
        if record.verdict == "dropped":
            raise Boom(record.error)

    async with aiohttp.ClientSession() as session:
        deliverer = Deliverer(
            session,
            policy=RetryPolicy(attempts=1, timeout=WAIT, max_backlog=1),
            store=None,
            on_attempt=explode,
        )
        try:
            target = oauth(holder.url)
            kept = [deliverer.submit("c", target, push(f"a{i}")) for i in (1, 2)]
            refused = deliverer.submit("c", target, push("x"))
            assert refused.done()
            with pytest.raises(Boom, match="backlog full: 1 push waiting"):
                refused.result()
            holder.release.set()
            assert [r.verdict for r in await results(kept)] == ["accepted"] * 2
        finally:
            await deliverer.close()


def _awaiting(task_name: str, function: str) -> bool:
    """True when the task ``task_name`` is suspended inside a coroutine of ``function``
    (its chain of awaited coroutines, from the task's own down)."""
    task = next((t for t in asyncio.all_tasks() if t.get_name() == task_name), None)
    awaited: Any = task.get_coro() if task is not None else None
    while awaited is not None:
        if getattr(awaited, "__name__", None) == function:
            return True
        awaited = getattr(awaited, "cr_await", None)
    return False


async def test_a_push_waiting_for_a_connection_slot_is_cancelled_cleanly(holder: Holder) -> None:
    """With a global cap on concurrent POSTs, a push of another conversation waits for a
    slot; closing the deliverer then cancels it before its POST ever started (the POST's
    coroutine is closed: filterwarnings = error turns a "never awaited" into a failure)."""
    async with aiohttp.ClientSession() as session:
        deliverer = Deliverer(
            session,
            policy=RetryPolicy(attempts=1, timeout=WAIT),
            store=default_store(),
            on_attempt=lambda record: None,
            clock_ms=lambda: STAMP,
            max_in_flight=1,
        )
        target = oauth(holder.url)
        first = deliverer.submit("c1", target, push("a1"))
        await holder.wait_for("a1")  # in flight, holding the one slot
        second = deliverer.submit("c2", target, push("b1"))
        for _ in range(100):  # loop turns (no timing): until c2's lane blocks on the slot
            if _awaiting("push:c2", "_within"):
                break
            await asyncio.sleep(0)
        assert _awaiting("push:c2", "_within")
        assert not second.done() and deliverer.pending == 2
        await deliverer.close()
        assert first.cancelled() and second.cancelled()
        assert [s.contents for s in holder.seen] == [["a1"]]  # b1 was never sent
        gc.collect()  # a coroutine never awaited would warn as it is collected


# --------------------------------------------------------------------------------------------
# configuration


def test_default_is_1000() -> None:
    assert RetryPolicy().max_backlog == 1000
    assert load_config(None, environ={}).delivery.max_backlog == 1000


def test_env_override() -> None:
    config = load_config(None, environ={"AICC_SIM_DELIVERY__MAX_BACKLOG": "7"})
    assert config.delivery.max_backlog == 7
    assert isinstance(config.delivery.max_backlog, int)
    assert config.delivery == RetryPolicy(max_backlog=7)
    assert config.to_document()["delivery"]["max_backlog"] == 7


def test_file_setting(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text(
        "credentials: [{app_key: k, app_secret: s}]\n"
        "channels: [{id: c1, callback_url: echo}]\n"
        "delivery: {max_backlog: 5}\n",
        encoding="utf-8",
    )
    assert load_config(str(path), environ={}).delivery == RetryPolicy(max_backlog=5)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("0", "/delivery/max_backlog: 0 is less than the minimum of 1"),
        ("-3", "/delivery/max_backlog: -3 is less than the minimum of 1"),
        ("x", "/delivery/max_backlog: 'x' is not of type 'integer'"),
        ("2.5", "/delivery/max_backlog: 2.5 is not of type 'integer'"),
    ],
)
def test_invalid_env_value_names_the_variable(raw: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ={"AICC_SIM_DELIVERY__MAX_BACKLOG": raw})
    error = caught.value
    assert error.path == "AICC_SIM_DELIVERY__MAX_BACKLOG" and error.line is None
    assert fragment in error.reason, error.reason
    assert str(error).startswith("AICC_SIM_DELIVERY__MAX_BACKLOG: ")
