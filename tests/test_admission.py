"""Timers first: the admission gate shuts while the event loop runs late (and scenario runs
are active) and lets the waiting requests in, in arrival order, a batch per short turn;
without active runs it never shuts; an idle gate stops ticking; closing it releases everyone."""

from __future__ import annotations

import asyncio
import time

from simulator.server.admission import LATE_S, RELEASE, Admission


async def _until(condition: object, what: str) -> None:
    """Yield to the loop until ``condition()`` holds (bounded: a broken gate fails, not hangs)."""
    assert callable(condition)
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.001)


async def test_a_late_loop_shuts_the_gate_and_a_short_turn_reopens_it() -> None:
    gate = Admission()
    assert not gate.behind  # open until a heartbeat says otherwise
    loop = asyncio.get_running_loop()
    busy = [True]

    def hog() -> None:  # every turn of the loop takes 2 x LATE_S while busy
        if busy[0]:
            time.sleep(LATE_S * 2)  # the late loop under test
            loop.call_soon(hog)

    loop.call_soon(hog)
    gate.arrived()
    await _until(lambda: gate.behind, "the gate shuts after a late beat")
    assert gate.late_max > LATE_S
    admitted: list[tuple[int, int]] = []  # (request, the loop turn it was let in on)
    turn = [0]
    loop = asyncio.get_running_loop()

    def count_turns() -> None:  # one increment per turn of the loop, until all are in
        turn[0] += 1
        if len(admitted) < queued:
            loop.call_soon(count_turns)

    async def request(n: int) -> None:
        await gate.wait()
        admitted.append((n, turn[0]))

    queued = 2 * RELEASE + 3
    waiting = [asyncio.ensure_future(request(n)) for n in range(queued)]
    for _ in range(3):
        await asyncio.sleep(0)
    assert admitted == [] and gate.behind  # held while every turn is long
    loop.call_soon(count_turns)
    busy[0] = False
    await asyncio.wait_for(asyncio.gather(*waiting), 10)
    assert [n for n, _ in admitted] == list(range(queued))  # first come first in
    per_turn: dict[int, int] = {}
    for _, at in admitted:
        per_turn[at] = per_turn.get(at, 0) + 1
    # a batch per short turn, never the whole queue at once
    assert max(per_turn.values()) == RELEASE and len(per_turn) >= 3
    assert gate.held == queued
    assert not gate.behind
    gate.close()


async def test_an_open_gate_never_holds_a_request_and_an_idle_gate_stops_ticking() -> None:
    gate = Admission()
    gate.arrived()
    assert not gate.behind
    await _until(lambda: gate._beat is None, "the heartbeat stops when no request arrives")
    assert gate.held == 0
    gate.close()


async def test_closing_releases_every_waiting_request() -> None:
    gate = Admission()
    waiter = asyncio.ensure_future(gate.wait())
    await asyncio.sleep(0)
    gate.close()
    await asyncio.wait_for(waiter, 5)
    assert not gate.behind


async def test_without_active_runs_a_late_loop_does_not_shut_the_gate() -> None:
    gate = Admission(lambda: 0)
    gate.arrived()
    time.sleep(LATE_S * 5)  # noqa: ASYNC251 - blocks the loop on purpose: the beat fires late
    await _until(lambda: gate.late_max > LATE_S, "the late beat was seen")
    assert not gate.behind  # no scenario step to protect: inbound work is never held
    gate.close()


async def test_the_gate_is_idle_only_without_requests_and_without_runs() -> None:
    # the collector policy thaws (one full-length pause) only when the gate says idle
    runs = [0]
    gate = Admission(lambda: runs[0])
    assert gate.idle()  # nothing has arrived, no run
    gate.arrived()
    assert not gate.idle()  # the heartbeat beats while requests arrive
    await _until(gate.idle, "the heartbeat stops when no request arrives")
    runs[0] = 1
    assert not gate.idle()  # a run's next step could be due during the pause
    gate.close()
