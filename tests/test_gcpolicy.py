"""The collector policy of ``aicc-sim serve``: the start-up heap and every full collection's
survivors are frozen (the next full collection walks only newer objects), thawed again once
the heap has grown, at a quiet moment (or under load past the valve), so that cycles among
them are still collected; uninstalling leaves the collector as Python had it."""

from __future__ import annotations

import asyncio
import gc
import weakref

from simulator.server.gcpolicy import THAW_EVERY, FreezeSurvivors


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_survivors_are_frozen_and_thawed_so_cycles_are_still_collected() -> None:
    policy = FreezeSurvivors(growth=0)  # this test process's heap will not double
    policy.install()
    try:
        assert gc.get_freeze_count() > 0  # the start-up heap
        survivor = [object() for _ in range(10)]
        gc.collect()  # a full collection: its survivors are frozen
        frozen = gc.get_freeze_count()
        assert frozen > 0
        # a cycle that became garbage while frozen is collected after a thaw
        garbage = _Cycle()
        gone = weakref.ref(garbage)
        gc.collect()  # frozen with the survivors
        del garbage
        gc.collect()
        assert gone() is not None  # frozen: a full collection does not walk it
        for _ in range(THAW_EVERY + 1):
            gc.collect()
        assert policy.thaws >= 1
        assert gone() is None  # thawed, then collected
        assert all(isinstance(o, object) for o in survivor)  # freezing frees nothing
    finally:
        policy.uninstall()
    assert gc.get_freeze_count() == 0
    policy.uninstall()  # idempotent


async def test_a_due_thaw_waits_for_a_quiet_moment_then_collects_everything() -> None:
    quiet = False
    looked = asyncio.Event()

    def is_quiet() -> bool:
        if quiet:  # set once the policy's check that asked has finished
            asyncio.get_running_loop().call_soon(looked.set)
        return quiet

    policy = FreezeSurvivors(growth=0, quiet=is_quiet, valve=1e9, check_every=0.01)
    policy.install()
    try:
        garbage = _Cycle()
        gone = weakref.ref(garbage)
        gc.collect()  # frozen with the survivors
        del garbage
        for _ in range(THAW_EVERY + 1):
            gc.collect()
        # under load (not quiet): the thaw is due, not done, and the cycle stays frozen
        assert policy.due and policy.thaws == 0
        assert gone() is not None
        quiet = True
        await asyncio.wait_for(looked.wait(), 10)  # the policy's own check, every 10 ms
        assert policy.thaws == 1 and not policy.due
        assert gone() is None  # thawed and collected at the quiet moment
        assert gc.get_freeze_count() > 0  # the survivors are frozen again
    finally:
        policy.uninstall()
    assert gc.get_freeze_count() == 0


def test_under_load_the_valve_thaws_anyway() -> None:
    policy = FreezeSurvivors(growth=0, quiet=lambda: False, valve=0)
    policy.install()
    try:
        for _ in range(THAW_EVERY + 1):
            gc.collect()
        assert policy.thaws >= 1
    finally:
        policy.uninstall()
