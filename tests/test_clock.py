"""The one clock: a virtual clock fires due callbacks in order, only when moved; the real
one schedules on the loop in epoch milliseconds."""

from __future__ import annotations

import asyncio
import time

import pytest

from simulator.core.clock import RealClock, VirtualClock


async def test_virtual_clock_fires_due_callbacks_in_time_order_only_when_advanced() -> None:
    clock = VirtualClock(start_ms=1_000_000)
    fired: list[tuple[str, int]] = []
    clock.call_at(1_000_300, lambda: fired.append(("c", clock.now())))
    clock.call_at(1_000_100, lambda: fired.append(("a", clock.now())))
    clock.call_at(1_000_100, lambda: fired.append(("b", clock.now())))  # same time: in order
    cancelled = clock.call_at(1_000_200, lambda: fired.append(("x", clock.now())))
    cancelled.cancel()
    await asyncio.sleep(0)
    assert fired == []  # real time passing moves nothing
    clock.advance(150)
    assert fired == [("a", 1_000_100), ("b", 1_000_100)]  # each sees its own time
    clock.advance(1000)
    assert fired[-1] == ("c", 1_000_300)
    assert len(fired) == 3
    assert clock.now() == 1_001_150
    assert clock.next_due() is None


async def test_a_callback_scheduled_while_advancing_fires_in_the_same_advance() -> None:
    clock = VirtualClock(start_ms=0)
    fired: list[int] = []

    def first() -> None:
        fired.append(clock.now())
        clock.call_later(50, lambda: fired.append(clock.now()))

    clock.call_at(100, first)
    clock.advance(200)
    assert fired == [100, 150]
    with pytest.raises(ValueError):
        clock.advance(-1)


async def test_virtual_sleep_and_wait_for_follow_virtual_time() -> None:
    clock = VirtualClock(start_ms=0)
    slept = asyncio.ensure_future(clock.sleep(30))  # thirty virtual seconds
    never: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    window = asyncio.ensure_future(clock.wait_for(never, 5))
    await asyncio.sleep(0.01)
    assert not slept.done() and not window.done()
    clock.advance(5_000)
    assert await window is None  # the window closed, the awaited future is left alone
    assert not never.cancelled()
    assert not slept.done()
    clock.advance(25_000)
    await asyncio.wait_for(slept, 1)
    soon: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    soon.set_result("here")
    assert await clock.wait_for(soon, 5) == "here"


async def test_run_until_jumps_from_timer_to_timer() -> None:
    clock = VirtualClock(start_ms=0)
    done = asyncio.Event()
    clock.call_at(3_600_000, done.set)  # an hour away
    await clock.run_until(done.wait())
    assert clock.now() == 3_600_000


async def test_real_clock_is_epoch_ms_and_runs_callbacks_on_the_loop() -> None:
    clock = RealClock()
    assert abs(clock.now() - time.time() * 1000) < 1000
    fired = asyncio.Event()
    start = clock.now()
    clock.call_at(start + 20, fired.set)
    await asyncio.wait_for(fired.wait(), 5)
    assert clock.now() >= start + 19  # not before its time (1 ms of rounding allowed)
    later = asyncio.Event()
    timer = clock.call_later(10, later.set)
    timer.cancel()
    await clock.sleep(0.05)
    assert not later.is_set()
