"""The collector policy of ``aicc-sim serve``: the start-up heap and every collection's
survivors are frozen (the next collection walks only newer objects); once the heap has grown,
the survivors are thawed and collected at a quiet moment (or under load past the valve), so
that cycles among them are still collected; uninstalling leaves the collector as Python had
it."""

from __future__ import annotations

import asyncio
import gc
import weakref

from simulator.server.gcpolicy import FreezeSurvivors


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def _frozen_garbage() -> weakref.ref[_Cycle]:
    """A cycle frozen by a collection while still referenced, then dropped: garbage that
    only a full collection after a thaw can free."""
    garbage = _Cycle()
    gone = weakref.ref(garbage)
    gc.collect()  # a survivor: frozen
    del garbage
    return gone


def test_survivors_of_every_collection_are_frozen_then_thawed_and_collected() -> None:
    policy = FreezeSurvivors(growth=0)  # due at every look (this test process's heap is steady)
    policy.install()
    try:
        assert gc.get_freeze_count() > 0  # the start-up heap
        for generation in (0, 1, 2):
            garbage = _Cycle()
            gone = weakref.ref(garbage)
            before = gc.get_freeze_count()
            gc.collect(generation)  # the cycle survives (still referenced): frozen
            assert gc.get_freeze_count() > before
            assert gc.get_count()[generation] == 0
            del garbage
            gc.collect()
            assert gone() is not None  # frozen: no collection walks it
        survivor = [object() for _ in range(10)]
        policy.look()
        assert policy.thaws == 1 and not policy.due
        assert gone() is None  # thawed, then collected
        assert gc.get_freeze_count() > 0  # the survivors are frozen again
        assert all(isinstance(o, object) for o in survivor)  # freezing frees nothing
    finally:
        policy.uninstall()
    assert gc.get_freeze_count() == 0
    policy.uninstall()  # idempotent


async def test_a_due_collection_waits_for_a_quiet_moment_then_collects_everything() -> None:
    quiet = False
    looked = asyncio.Event()

    def is_quiet() -> bool:
        if quiet:  # set once the policy's look that asked has finished
            asyncio.get_running_loop().call_soon(looked.set)
        return quiet

    policy = FreezeSurvivors(growth=0, quiet=is_quiet, valve=1e9, check_every=0.01)
    policy.install()
    try:
        gone = _frozen_garbage()
        policy.look()
        # under load (not quiet): the collection is due, not done, and the cycle stays frozen
        assert policy.due and policy.thaws == 0
        assert gone() is not None
        quiet = True
        await asyncio.wait_for(looked.wait(), 10)  # the policy's own look, every 10 ms
        assert policy.thaws >= 1 and not policy.due
        assert gone() is None  # thawed and collected at the quiet moment
        assert gc.get_freeze_count() > 0  # the survivors are frozen again
    finally:
        policy.uninstall()
    assert gc.get_freeze_count() == 0


def test_under_load_the_valve_collects_anyway() -> None:
    policy = FreezeSurvivors(growth=0, quiet=lambda: False, valve=0)
    policy.install()
    try:
        gone = _frozen_garbage()
        policy.look()
        assert policy.thaws == 1
        assert gone() is None
    finally:
        policy.uninstall()


def test_a_steady_heap_keeps_its_survivors_frozen() -> None:
    policy = FreezeSurvivors(growth=1e9)
    policy.install()
    try:
        gone = _frozen_garbage()
        policy.look()
        assert policy.thaws == 0 and not policy.due
        assert gone() is not None
    finally:
        policy.uninstall()
    gc.collect()
    assert gone() is None  # uninstalled: everything thawed


def test_an_uninstalled_policy_does_nothing() -> None:
    policy = FreezeSurvivors(growth=0)
    policy.look()
    assert policy.thaws == 0
    assert gc.get_freeze_count() == 0
