"""The collector policy of ``aicc-sim serve``: the start-up heap and every full collection's
survivors are frozen (the next full collection walks only newer objects), thawed again every
few full collections so that cycles among them are still collected; uninstalling leaves the
collector as Python had it."""

from __future__ import annotations

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
