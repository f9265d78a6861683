"""Timers first: the admission gate shuts while the event loop runs late (and scenario runs
are active) and lets every waiting request in, in arrival order, on the first short turn;
without active runs it never shuts; an idle gate stops ticking; closing it releases everyone."""

from __future__ import annotations

import asyncio
import time

from simulator.server.admission import LATE_S, Admission


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
    admitted: list[int] = []

    async def request(n: int) -> None:
        await gate.wait()
        admitted.append(n)

    waiting = [asyncio.ensure_future(request(n)) for n in range(11)]
    for _ in range(3):
        await asyncio.sleep(0)
    assert admitted == [] and gate.behind  # held while every turn is long
    busy[0] = False
    await asyncio.wait_for(asyncio.gather(*waiting), 10)
    assert admitted == list(range(11))  # all of them on the first short turn, first come first in
    assert gate.held == 11
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
