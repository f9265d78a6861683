"""Timers first: the admission gate shuts while the event loop runs late and lets the waiting
requests in, in arrival order, once its heartbeat is on time again; an idle gate stops
ticking; closing it releases everyone."""

from __future__ import annotations

import asyncio
import time

from simulator.server.admission import BATCH, LATE_S, Admission


async def _until(condition: object, what: str) -> None:
    """Yield to the loop until ``condition()`` holds (bounded: a broken gate fails, not hangs)."""
    assert callable(condition)
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.001)


async def test_a_late_loop_shuts_the_gate_and_an_on_time_beat_reopens_it() -> None:
    gate = Admission()
    assert not gate.behind  # open until a heartbeat says otherwise
    gate.arrived()
    time.sleep(LATE_S * 5)  # noqa: ASYNC251 - blocks the loop on purpose: the beat fires late
    await _until(lambda: gate.behind, "the gate shuts after a late beat")
    assert gate.late_max > LATE_S
    admitted: list[int] = []

    async def request(n: int) -> None:
        await gate.wait()
        admitted.append(n)

    waiting = [asyncio.ensure_future(request(n)) for n in range(BATCH + 3)]
    await asyncio.wait_for(asyncio.gather(*waiting), 10)
    assert admitted == list(range(BATCH + 3))  # first come, first in
    assert gate.held == BATCH + 3
    await _until(lambda: not gate.behind, "the gate reopens once nobody waits")
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
